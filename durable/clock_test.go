package durable

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestStampClockFollowsTheWallClock: the anchored clock reads what
// time.Now reads, to within its documented bound, never goes back, and
// takes a new anchor once the old one is clockReanchor old.
func TestStampClockFollowsTheWallClock(t *testing.T) {
	var c stampClock
	last := int64(0)
	for range 10000 {
		before := time.Now().UnixNano()
		ts := c.now()
		after := time.Now().UnixNano()
		require.GreaterOrEqual(t, ts, before-int64(clockReanchor))
		require.LessOrEqual(t, ts, after+int64(clockReanchor))
		require.GreaterOrEqual(t, ts, last)
		last = ts
	}

	// An anchor as old as clockReanchor is replaced by a fresh reading.
	stale := time.Now().Add(-clockReanchor)
	c.anchor, c.anchorNS = stale, stale.UnixNano()
	before := time.Now()
	c.now()
	require.False(t, c.anchor.Before(before), "the stale anchor was kept")

}
