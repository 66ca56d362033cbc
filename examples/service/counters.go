package main

import (
	"fmt"
	"sync/atomic"
)

// counters are what an instance reports in its progress lines and
// metrics.
type counters struct {
	// done: own jobs answered; retried: sends after the first; dup:
	// answers to jobs already answered; failed: jobs given up after
	// every attempt.
	done, retried, dup, failed atomic.Uint64
	// served: requests answered; servedOthers: those from other
	// instances (or REQ peers); malformed: requests of the wrong shape.
	served, servedOthers, malformed atomic.Uint64
	// outstanding: jobs waiting for an answer now.
	outstanding atomic.Int64
	// refused: handshakes the ROUTER refused (CURVE: a key not trusted);
	// refusedByPeers: handshakes of the DEALER other instances refused.
	refused, refusedByPeers atomic.Uint64
}

func (c *counters) fields() string {
	return fmt.Sprintf("done=%d retried=%d dup=%d failed=%d outstanding=%d served=%d served_others=%d malformed=%d",
		c.done.Load(), c.retried.Load(), c.dup.Load(), c.failed.Load(), c.outstanding.Load(),
		c.served.Load(), c.servedOthers.Load(), c.malformed.Load())
}

// securityFields are the fields progress lines add over CURVE.
func (c *counters) securityFields() string {
	return fmt.Sprintf(" refused=%d refused_by_peers=%d", c.refused.Load(), c.refusedByPeers.Load())
}
