package durable

import (
	"context"
	"sync"
)

// groupCommit lets many goroutines ask for a flush and shares one flush
// among all who asked while another was running: a caller returns once a
// flush that started after its call has finished (so it covers every change
// the caller made before calling), and runs that flush itself only if
// nobody has done it for it meanwhile. No goroutine of its own, and no
// caller runs more than its own flush.
type groupCommit struct {
	turn chan struct{} // holds a token while a flush runs

	mu        sync.Mutex
	requested uint64 // requests made
	flushed   uint64 // every request up to this one is covered by a finished flush
	err       error  // outcome of the last flush
}

func newGroupCommit() *groupCommit {
	return &groupCommit{turn: make(chan struct{}, 1)}
}

// do returns once a flush covering this call has run, with its error. ctx
// bounds only the wait for a running flush to finish.
func (g *groupCommit) do(ctx context.Context, flush func() error) error {
	g.mu.Lock()
	g.requested++
	mine := g.requested
	g.mu.Unlock()
	select {
	case g.turn <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-g.turn }()
	g.mu.Lock()
	if g.flushed >= mine {
		err := g.err
		g.mu.Unlock()
		return err
	}
	upto := g.requested
	g.mu.Unlock()
	err := flush()
	g.mu.Lock()
	g.flushed, g.err = upto, err
	g.mu.Unlock()
	return err
}

// exclusive runs fn with no flush running.
func (g *groupCommit) exclusive(fn func() error) error {
	g.turn <- struct{}{}
	defer func() { <-g.turn }()
	return fn()
}
