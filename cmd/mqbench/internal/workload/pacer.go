package workload

import (
	"time"

	"github.com/brookmq/brook/cmd/mqbench/internal/impl"
)

// spinWindow is how close to a message's due time a spinning pacer stops
// sleeping and busy-waits: time.Sleep wakes up to a millisecond late on
// common Linux machines, which shows as send delay that belongs to the
// pacer, not to the system measured.
const spinWindow = 2 * time.Millisecond

// pacer holds an open-loop schedule: message i is due at start + i/rate.
// A closed-loop pacer (rate 0) makes every message due now.
type pacer struct {
	start    int64   // Unix ns
	interval float64 // ns between messages; 0: closed loop
	spin     bool    // busy-wait the last spinWindow before each message
	sock     impl.Socket
	clock    func() int64 // Unix ns: time.Now's (tests count its reads)
}

func newPacer(rate float64, spin bool, start time.Time, sock impl.Socket) *pacer {
	p := &pacer{start: start.UnixNano(), spin: spin, sock: sock, clock: unixNano}
	if rate > 0 {
		p.interval = 1e9 / rate
	}
	return p
}

// open reports whether the pacer follows a schedule.
func (p *pacer) open() bool { return p.interval > 0 }

// due returns message i's intended send time (Unix ns), or 0 closed
// loop, where every message is due at once.
func (p *pacer) due(i int64) int64 {
	if p.interval == 0 {
		return 0
	}
	return p.start + int64(float64(i)*p.interval)
}

// unixNano is the wall clock in Unix ns.
func unixNano() int64 { return time.Now().UnixNano() }

// waitUntil waits until due (Unix ns; 0 or past: not at all), sleeping,
// and for a spinning pacer busy-waiting the last spinWindow. Before
// waiting it flushes a socket that buffers. A closed loop (due 0) does
// not read the clock: a read costs 20 to 50 ns on common virtual
// machines, as much as a library's whole send path for small messages,
// and the sender reads it once per message already for the header.
func (p *pacer) waitUntil(due int64) {
	if due == 0 {
		return
	}
	now := p.clock()
	if due <= now {
		return
	}
	flush(p.sock)
	left := time.Duration(due - now)
	if !p.spin {
		time.Sleep(left)
		return
	}
	if left > spinWindow {
		time.Sleep(left - spinWindow)
	}
	for p.clock() < due { //nolint:revive // busy-wait by design (--pacer spin)
	}
}

// flush writes out what a buffering socket holds; the next call on the
// socket reports any error.
func flush(s impl.Socket) {
	if f, ok := s.(impl.Flusher); ok {
		_ = f.Flush()
	}
}
