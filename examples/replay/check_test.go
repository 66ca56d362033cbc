package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func feed(s *stream, r *subRun, resuming bool, offs ...uint64) {
	for _, off := range offs {
		s.got(r, tick{off: off, n: off, at: int64(1000 + off)}, resuming)
	}
}

// The checker accepts resumptions between the committed position and the
// last tick read, and reports gaps, disorder and early resumptions.
func TestStreamChecks(t *testing.T) {
	s := newStream()
	r1 := &subRun{label: "s1"}
	assert.Zero(t, s.resumed(r1, 0))
	feed(s, r1, true, 0, 1, 2, 3, 4)
	s.commit = 3
	r2 := &subRun{label: "s2"}
	assert.Equal(t, 2, s.resumed(r2, 3), "ticks 3 and 4 again")
	feed(s, r2, true, 3, 4)
	assert.False(t, r2.fresh, "nothing new read yet")
	feed(s, r2, true, 5)
	assert.True(t, r2.fresh)
	assert.Equal(t, 8, s.complete())
	assert.Equal(t, 2, s.again)
	assert.Empty(t, s.report())

	r3 := &subRun{label: "s3"}
	s.resumed(r3, 7) // skips tick 6
	feed(s, r3, true, 7, 9)
	s.commit = 9
	s.resumed(&subRun{label: "s4"}, 8) // before its committed position
	s.got(r3, tick{off: 10, n: 11}, true)
	s.got(r3, tick{off: 11, n: 11, at: 5}, true)
	s.got(r3, tick{off: 11, n: 11, at: 6}, true)
	s.complete()
	p := s.report()
	for _, want := range []string{
		"s3: resumed at tick 7, but ticks 6..6 were never read",
		"s3: tick 9 came after tick 7",
		"s4: resumed at tick 8, before its committed position 9",
		"s3: tick 11 came at offset 10",
		"tick 11 has publish time 6, read before with 5",
		"tick 6 was never read",
	} {
		assert.Contains(t, p, want)
	}

	fresh := newStream()
	assert.Zero(t, fresh.resumed(&subRun{label: "first"}, 0))
	fresh.resumed(&subRun{label: "late"}, 5)
	assert.Contains(t, fresh.report(), "late: the first subscriber started at tick 5, not at the oldest (0)")
}

func TestTimeBetween(t *testing.T) {
	s := newStream()
	s.times = map[uint64]int64{0: 10, 1: 11, 2: 12, 3: 20, 4: 30, 5: 31}
	m, at, ok := s.timeBetween(1, 6, 5)
	require.True(t, ok)
	assert.EqualValues(t, 4, m, "the tick published longest after the one before")
	assert.Greater(t, at, int64(20))
	assert.LessOrEqual(t, at, int64(30))
	_, _, ok = s.timeBetween(1, 3, 5)
	assert.False(t, ok, "no pause of 5 ns")
}

func TestParseStart(t *testing.T) {
	for _, ok := range []string{"oldest", "live", "offset:12", "time:1700000000000000000"} {
		_, err := parseStart(ok)
		assert.NoError(t, err, ok)
	}
	for _, bad := range []string{"", "newest", "offset:", "offset:-1", "time:soon"} {
		_, err := parseStart(bad)
		assert.Error(t, err, bad)
	}
}
