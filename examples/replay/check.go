package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// tick is one tick a subscriber printed.
type tick struct {
	off, epoch, n uint64
	at            int64 // publish time, unix ns
}

func parseTick(f []string) (tick, error) {
	if len(f) != 5 {
		return tick{}, fmt.Errorf("want 4 fields after got, have %d", len(f)-1)
	}
	var t tick
	var err error
	for i, p := range []*uint64{&t.off, &t.epoch, &t.n} {
		if *p, err = strconv.ParseUint(f[i+1], 10, 64); err != nil {
			return tick{}, err
		}
	}
	t.at, err = strconv.ParseInt(f[4], 10, 64)
	return t, err
}

// subRun is what one subscriber process read.
type subRun struct {
	label       string
	seen        bool
	first, last uint64
	count       int
	fresh       bool // it read a tick no process had read before
}

// stream checks the ticks the subscribers read: each process reads them
// in order without a gap; the resuming subscriber's processes together
// read every tick from 0 on, and each new process starts no later than
// where the one before stopped and no earlier than the position that one
// committed.
type stream struct {
	times    map[uint64]int64 // publish time of each tick seen
	seen     map[uint64]int   // how often the resuming subscriber read each tick
	maxSeen  uint64           // highest tick the resuming subscriber read
	any      bool             // it read something
	commit   uint64           // its last committed position
	again    int              // reads of ticks read before (after restarts)
	problems []string
}

func newStream() *stream { return &stream{times: map[uint64]int64{}, seen: map[uint64]int{}} }

func (s *stream) problemf(format string, args ...any) {
	s.problems = append(s.problems, fmt.Sprintf(format, args...))
}

// got checks a tick read by run r; resuming says r belongs to the
// resuming subscriber (not the one that starts from a time).
func (s *stream) got(r *subRun, t tick, resuming bool) {
	if t.n != t.off {
		s.problemf("%s: tick %d came at offset %d", r.label, t.n, t.off)
	}
	if r.seen && t.off != r.last+1 {
		s.problemf("%s: tick %d came after tick %d", r.label, t.off, r.last)
	}
	if at, ok := s.times[t.off]; ok && at != t.at {
		s.problemf("%s: tick %d has publish time %d, read before with %d", r.label, t.off, t.at, at)
	}
	s.times[t.off] = t.at
	if !r.seen {
		r.first, r.seen = t.off, true
	}
	r.last = t.off
	r.count++
	if resuming {
		if s.any && t.off <= s.maxSeen {
			s.again++
		} else {
			r.fresh = true
		}
		s.seen[t.off]++
		s.maxSeen = max(s.maxSeen, t.off)
		s.any = true
	}
}

// resumed checks where a restarted subscriber process began, before its
// first tick is recorded with got, and returns how many ticks it will
// read again (those after its committed position that were read before).
func (s *stream) resumed(r *subRun, first uint64) int {
	if !s.any {
		if first != 0 {
			s.problemf("%s: the first subscriber started at tick %d, not at the oldest (0)", r.label, first)
		}
		return 0
	}
	if first > s.maxSeen+1 {
		s.problemf("%s: resumed at tick %d, but ticks %d..%d were never read: a gap", r.label, first, s.maxSeen+1, first-1)
	}
	if first < s.commit {
		s.problemf("%s: resumed at tick %d, before its committed position %d", r.label, first, s.commit)
	}
	return int(s.maxSeen + 1 - min(first, s.maxSeen+1))
}

// complete checks that every tick from 0 to the highest one was read,
// and that the ticks read twice are those read again after restarts.
func (s *stream) complete() (reads int) {
	for off := uint64(0); s.any && off <= s.maxSeen; off++ {
		if s.seen[off] == 0 {
			s.problemf("tick %d was never read", off)
		}
		reads += s.seen[off]
	}
	if twice := reads - len(s.seen); twice != s.again {
		s.problemf("%d reads of ticks read before, but %d after restarts", twice, s.again)
	}
	return reads
}

// timeBetween returns the tick m in [lo, hi) published longest after
// the one before it, at least gap after (the ticker publishes in bursts,
// every 10 ms, so that is a pause between bursts), and a time t with
// times[m-1] < t <= times[m], for a subscriber to start from.
func (s *stream) timeBetween(lo, hi uint64, gap time.Duration) (m uint64, t int64, ok bool) {
	best := int64(gap) - 1
	for i := max(lo, 1); i < hi; i++ {
		prev, ok1 := s.times[i-1]
		at, ok2 := s.times[i]
		if ok1 && ok2 && at-prev > best {
			m, t, ok, best = i, prev+(at-prev)/2, true, at-prev
		}
	}
	return m, t, ok
}

func (s *stream) report() string {
	if len(s.problems) == 0 {
		return ""
	}
	const show = 10
	p := s.problems
	more := ""
	if len(p) > show {
		more = fmt.Sprintf(" (and %d more)", len(p)-show)
		p = p[:show]
	}
	return strings.Join(p, "; ") + more
}
