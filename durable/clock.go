package durable

import "time"

// stampClock reads the wall clock for record timestamps at the price of
// one monotonic clock read: a time.Now taken at most clockReanchor ago
// (the anchor) plus the monotonic time elapsed since. The two agree
// unless the wall clock was stepped since the anchor, so a record's time
// is the wall clock's to within clockReanchor of a step (and a few
// microseconds of slew); record times never decrease along the Log
// whatever the clock does (enqueue keeps them at or above the last one).
// Only the default clock is read this way: WithClock's is called for
// every record. Not safe for concurrent use (Log.mu guards it).
type stampClock struct {
	anchor   time.Time // a time.Now reading with its monotonic part; zero: none yet
	anchorNS int64     // anchor.UnixNano()
}

// clockReanchor is how long an anchor serves before the wall clock is
// read again.
const clockReanchor = 10 * time.Millisecond

// now returns the time, unix ns.
func (c *stampClock) now() int64 {
	if !c.anchor.IsZero() {
		if d := time.Since(c.anchor); d >= 0 && d < clockReanchor {
			return c.anchorNS + int64(d)
		}
	}
	c.anchor = time.Now()
	c.anchorNS = c.anchor.UnixNano()
	return c.anchorNS
}
