package workload

import (
	"sync"
	"sync/atomic"
	"time"
)

// Options are the knobs of a run that are not on the command line.
type Options struct {
	// Progress, when not nil, is updated as messages are measured.
	Progress *Progress
	// OnListening is called once the local role has bound its
	// endpoints, with what the remote role must connect to (ret is empty
	// when the workload has no return path).
	OnListening func(endpoint, ret string)
	// StallAfter and Stall make the receiving end (the sink of a one-way
	// run, the echoing end of a round trip) sleep for Stall once, after
	// its StallAfter-th measured message of each size: a test hook to
	// show coordinated omission.
	StallAfter int64
	Stall      time.Duration
}

// Progress is what a progress bar reads while a run goes on. Its fields
// are safe to read from any goroutine.
type Progress struct {
	// Phase is the index of the size being measured.
	Phase atomic.Int32
	// Done counts measured messages in the current phase.
	Done atomic.Int64
	// Total is the number of messages the phase expects (0 when it runs
	// for a duration).
	Total atomic.Int64
	// Begin is when the phase started and Deadline when a duration phase
	// ends (Unix ns; Deadline is 0 for counts).
	Begin    atomic.Int64
	Deadline atomic.Int64

	// mu makes add's phase check and count one step, so a message of the
	// phase just ended is never counted into the next one.
	mu sync.Mutex
}

func (p *Progress) start(phase int, total int64, deadline time.Time) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.Done.Store(0)
	p.Total.Store(total)
	p.Begin.Store(time.Now().UnixNano())
	if deadline.IsZero() {
		p.Deadline.Store(0)
	} else {
		p.Deadline.Store(deadline.UnixNano())
	}
	p.Phase.Store(int32(phase))
}

// add counts n messages of phase k, if k is the current phase.
func (p *Progress) add(k int, n int64) {
	if p == nil {
		return
	}
	p.mu.Lock()
	if int(p.Phase.Load()) == k {
		p.Done.Add(n)
	}
	p.mu.Unlock()
}
