package faultproxy

import "time"

// await blocks until ok (called with p.mu held) reports true, re-checking
// whenever a control changes. It returns false if done closes first.
func (p *Proxy) await(done <-chan struct{}, ok func() bool) bool {
	for {
		p.mu.Lock()
		good := ok()
		wake := p.wake
		p.mu.Unlock()
		if good {
			return true
		}
		select {
		case <-wake:
		case <-done:
			return false
		}
	}
}

// sleepUntil blocks until the clock passes deadline (called with p.mu
// held), re-reading the deadline whenever a control changes. It returns
// false if done closes first.
func (p *Proxy) sleepUntil(done <-chan struct{}, deadline func() time.Time) bool {
	for {
		p.mu.Lock()
		t := deadline()
		wake := p.wake
		p.mu.Unlock()
		wait := t.Sub(p.clk.Now())
		if wait <= 0 {
			return true
		}
		fired, stop := p.clk.After(wait)
		select {
		case <-fired:
		case <-wake:
		case <-done:
			stop()
			return false
		}
		stop()
	}
}

// pace reserves the next piece of at most n bytes on direction i's link
// and waits until the link has carried it. It returns the piece's size
// (n when the direction is not limited), or false if done closes first.
// A piece reserved under a rate that changes while it waits is reserved
// again under the new one.
func (p *Proxy) pace(done <-chan struct{}, i, n int) (int, bool) {
	ds := &p.dirs[i]
	for {
		p.mu.Lock()
		if ds.rate == 0 {
			p.mu.Unlock()
			return n, true
		}
		k := min(n, pieceSize(ds.rate))
		start := p.clk.Now()
		if ds.free.After(start) {
			start = ds.free
		}
		ready := start.Add(transmitTime(k, ds.rate))
		ds.free = ready
		gen := ds.rateGen
		p.mu.Unlock()
		ok := p.sleepUntil(done, func() time.Time {
			if ds.rateGen != gen {
				return time.Time{}
			}
			return ready
		})
		if !ok {
			return 0, false
		}
		p.mu.Lock()
		same := ds.rateGen == gen
		p.mu.Unlock()
		if same {
			return k, true
		}
	}
}

// pieceSize is how many bytes go out at once at rate bytes per second:
// about 20 ms of traffic, at least a byte, at most a chunk.
func pieceSize(rate int64) int {
	return int(max(1, min(rate/50, chunkSize)))
}

// transmitTime is how long a link of rate bytes per second takes to
// carry k bytes.
func transmitTime(k int, rate int64) time.Duration {
	return time.Duration(int64(k) * int64(time.Second) / rate)
}

// takeCut charges k bytes about to be forwarded in direction i to an
// armed cut. It returns how many of them may go, and the cut when they
// are its last (the caller then cuts the connection and closes its done).
func (p *Proxy) takeCut(i, k int) (int, *cutState) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.cut
	if c == nil || c.dirs&bit(i) == 0 {
		return k, nil
	}
	if int64(k) < c.left {
		c.left -= int64(k)
		return k, nil
	}
	k = int(c.left)
	c.left = 0
	p.cut = nil
	return k, c
}
