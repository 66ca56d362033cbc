package faultproxy

import "context"

// Stats is a snapshot of a proxy's counters.
type Stats struct {
	// Accepted counts client connections the proxy accepted (refused
	// ones are not seen).
	Accepted int64
	// Active is the number of connections forwarding now: dialled through
	// to the target and not yet torn down.
	Active int
	// DialFailures counts accepted connections that were reset because
	// the target could not be dialled.
	DialFailures int64
	// Resets counts connections reset by ResetAll; Cuts connections cut
	// by CutAfter.
	Resets, Cuts int64
	// ToTarget and ToClient count the bytes of each direction.
	ToTarget, ToClient Flow
}

// Flow counts the bytes of one direction, over all connections. Read
// minus Forwarded minus Discarded is what the proxy holds (stalled or
// delayed) or lost when connections were torn down.
type Flow struct {
	// Read counts bytes read from the sending side.
	Read int64
	// Forwarded counts bytes written to the receiving side.
	Forwarded int64
	// Discarded counts bytes read and thrown away by BlackHole.
	Discarded int64
}

// Stats returns the counters now.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.statsLocked()
}

func (p *Proxy) statsLocked() Stats {
	s := p.stats
	s.Active = p.active
	s.ToTarget = p.dirs[0].flow
	s.ToClient = p.dirs[1].flow
	return s
}

// WaitStats blocks until cond reports true for the counters, checking
// them each time they change, and returns the counters it accepted. It
// fails with ctx's error when ctx ends first, and with ErrClosed when the
// proxy is closed (its counters then never change again).
func (p *Proxy) WaitStats(ctx context.Context, cond func(Stats) bool) (Stats, error) {
	for {
		p.mu.Lock()
		s := p.statsLocked()
		closed := p.closed
		if p.notify == nil {
			p.notify = make(chan struct{})
		}
		changed := p.notify
		p.mu.Unlock()
		if cond(s) {
			return s, nil
		}
		if closed {
			return s, ErrClosed
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return s, ctx.Err()
		}
	}
}

// statsChangedLocked wakes WaitStats callers. p.mu is held.
func (p *Proxy) statsChangedLocked() {
	if p.notify != nil {
		close(p.notify)
		p.notify = nil
	}
}

// took counts n bytes read in direction i and reports whether they are to
// be forwarded (false: black-holed, counted as discarded).
func (p *Proxy) took(i, n int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	ds := &p.dirs[i]
	ds.flow.Read += int64(n)
	forward := ds.mode != modeBlackHole
	if !forward {
		ds.flow.Discarded += int64(n)
	}
	p.statsChangedLocked()
	return forward
}

// discardIfBlackHole discards n held bytes of direction i if it is a
// black hole now, and reports whether it did.
func (p *Proxy) discardIfBlackHole(i, n int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	ds := &p.dirs[i]
	if ds.mode != modeBlackHole {
		return false
	}
	ds.flow.Discarded += int64(n)
	p.statsChangedLocked()
	return true
}

// forwarded counts n bytes written in direction i.
func (p *Proxy) forwarded(i, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dirs[i].flow.Forwarded += int64(n)
	p.statsChangedLocked()
}
