package durable

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var mixedKills = flag.Int("durable.mixedkills", 8, "SIGKILL iterations of TestKillMixedWorkload")

// mixedBigProducer is the producer id of the multipart (large record)
// producer in a mixed child; smaller ids append small plain records.
const (
	mixedSmallProducers = 4
	// Far above every small producer id (4 per iteration), so that ids
	// never collide however many iterations run (they did from iteration
	// 250 on when this was 1000).
	mixedBigProducer = 1 << 24
	mixedSegmentSize = 16 << 10
)

func mixedOptions(mode SyncMode) []Option {
	return []Option{WithSync(mode), WithSegmentSize(mixedSegmentSize), WithRetainBytes(96 << 10),
		WithRetainConsumed(), WithCursorPersistInterval(2 * time.Millisecond),
		WithMaxAckRanges(4), WithIndexInterval(1024)}
}

// mixedSmall is the s-th small plain payload of producer p (0 to ~60 bytes).
func mixedSmall(p, s int) []byte {
	head := fmt.Sprintf("m%d:%d:", p, s)
	b := make([]byte, len(head)+(p*31+s*17)%48)
	copy(b, head)
	for i := len(head); i < len(b); i++ {
		b[i] = byte(p*7 + s + i)
	}
	return b
}

// mixedBig is the s-th multipart message of the big producer p: 1 to 4
// frames of 1 to 3 KiB, the first starting with a parseable head.
func mixedBig(p, s int) [][]byte {
	frames := make([][]byte, 1+s%4)
	for i := range frames {
		f := make([]byte, 1000+(s*7919+i*104729)%2000)
		for j := range f {
			f[j] = byte(s*13 + i*5 + j)
		}
		frames[i] = f
	}
	copy(frames[0], fmt.Sprintf("M%d:%d:", p, s))
	return frames
}

// parseMixed recognises a record appended by a mixed child.
func parseMixed(rec Record) (p, s int, ok bool) {
	if rec.Multipart() {
		frames, err := rec.Frames()
		if err != nil || len(frames) == 0 {
			return 0, 0, false
		}
		if _, err := fmt.Sscanf(string(frames[0]), "M%d:%d:", &p, &s); err != nil || p < 0 || s < 0 || s > 1<<30 {
			return 0, 0, false
		}
		want := mixedBig(p, s)
		if len(want) != len(frames) {
			return 0, 0, false
		}
		for i := range want {
			if !bytes.Equal(want[i], frames[i]) {
				return 0, 0, false
			}
		}
		return p, s, true
	}
	if _, err := fmt.Sscanf(string(rec.Data), "m%d:%d:", &p, &s); err != nil || p < 0 || s < 0 || p > 1<<20 || s > 1<<30 {
		return 0, 0, false
	}
	return p, s, bytes.Equal(mixedSmall(p, s), rec.Data)
}

// mixedChild appends small records from several producers and large
// multipart ones from another, while a consumer acknowledges out of order
// (windows acked backwards, through a cursor that keeps few ranges, retrying
// acknowledgements refused with ErrRangesFull) and commits, and a second reader tails through retention. It reports "ack
// <offset> <producer> <seq>" after each acknowledged append and "commit
// <floor>" after each commit, and prints "opening" just before Open so the
// parent can also kill it during recovery.
func mixedChild(dir string, mode SyncMode, iter int) int {
	var out sync.Mutex
	report := func(format string, args ...any) {
		out.Lock()
		fmt.Fprintf(os.Stdout, format, args...)
		out.Unlock()
	}
	report("opening\n")
	l, err := Open(dir, mixedOptions(mode)...)
	if err != nil {
		report("error open: %v\n", err)
		return 2
	}
	c, err := l.Cursor("consumer")
	if err != nil {
		report("error cursor: %v\n", err)
		return 2
	}
	ctx := context.Background()
	report("ready\n")
	for p := range mixedSmallProducers {
		go func() {
			id := iter*mixedSmallProducers + p
			for s := 0; ; s++ {
				off, err := l.Append(ctx, mixedSmall(id, s))
				if err != nil {
					report("error append: %v\n", err)
					return
				}
				report("ack %d %d %d\n", off, id, s)
			}
		}()
	}
	go func() {
		id := mixedBigProducer + iter
		for s := 0; ; s++ {
			off, err := l.AppendMsg(ctx, mixedBig(id, s))
			if err != nil {
				report("error append-msg: %v\n", err)
				return
			}
			report("ack %d %d %d\n", off, id, s)
		}
	}()
	go func() {
		// A tailing reader overtaken by retention starts again at First.
		r := l.NewReader(l.First())
		for {
			if _, err := r.Next(ctx); err != nil {
				if errors.Is(err, ErrOutOfRange) {
					r.Seek(l.First())
					continue
				}
				report("error tail: %v\n", err)
				return
			}
		}
	}()
	r := l.NewReader(c.Offset())
	var window, retry []uint64
	ack := func(off uint64) error {
		err := c.Ack(off)
		if errors.Is(err, ErrRangesFull) {
			// Refused, nothing recorded: keep it and try again once the
			// floor has moved (the documented way to handle it).
			retry = append(retry, off)
			return nil
		}
		return err
	}
	for n := 1; ; n++ {
		rec, err := r.Next(ctx)
		if errors.Is(err, ErrOutOfRange) {
			// Retention deleted records not yet acknowledged: they are
			// gone, so acknowledge them and read on from the oldest.
			first := l.First()
			if err := c.AckRange(c.Offset(), first); err != nil && !errors.Is(err, ErrRangesFull) {
				report("error ack: %v\n", err)
				return 3
			}
			r.Seek(first)
			continue
		}
		if err != nil {
			report("error consume: %v\n", err)
			return 3
		}
		window = append(window, rec.Offset)
		if len(window) < 8 {
			continue
		}
		for i := len(window) - 1; i >= 0; i-- {
			if err := ack(window[i]); err != nil {
				report("error ack: %v\n", err)
				return 3
			}
		}
		window = window[:0]
		pending := retry
		retry = nil
		for _, off := range pending {
			if err := ack(off); err != nil {
				report("error ack: %v\n", err)
				return 3
			}
		}
		if n%24 == 0 {
			if err := c.Commit(); err != nil {
				report("error commit: %v\n", err)
				return 3
			}
			report("commit %d\n", c.Offset())
		}
	}
}

// TestKillMixedWorkload is a second SIGKILL loop with a different load than
// TestKillUnderLoad: small and large (multipart, up to 12 KiB in 16 KiB
// segments) records, out-of-order acknowledgements over a cursor with few
// ranges, retention by bytes and by consumption, a reader tailing through
// retention, and every fourth kill during Open's recovery. After each kill:
// a read-only Open sees exactly what the writer's recovery keeps, no cursor
// needs clamping (a persisted cursor never passes the durable end, which a
// process kill cannot lose), every acknowledged record at or above First is
// present and identical, the log is a gapless run of records really
// appended in producer order, the cursor is not behind its last commit, and
// appends work. Run longer with -durable.mixedkills=N.
func TestKillMixedWorkload(t *testing.T) {
	dir := t.TempDir()
	modes := []SyncMode{Group, Always, Interval(3 * time.Millisecond), None}
	seed := uint64(time.Now().UnixNano())
	t.Logf("kill timing seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 11))
	type ack struct{ p, s int }
	acked := map[uint64]ack{}
	committed := uint64(0)
	rolled := false
	var lastEpoch Epoch
	for it := range *mixedKills {
		mode := modes[it%len(modes)]
		duringOpen := it%4 == 3
		var delay time.Duration
		if duringOpen {
			delay = time.Duration(rng.IntN(3000)) * time.Microsecond
		} else {
			delay = time.Duration(rng.IntN(120)) * time.Millisecond
		}
		lines := killMixedOnce(t, dir, mode, it, duringOpen, delay)
		for _, ln := range lines {
			f := strings.Fields(ln)
			switch {
			case len(f) == 4 && f[0] == "ack" && mode != None:
				off, _ := strconv.ParseUint(f[1], 10, 64)
				p, _ := strconv.Atoi(f[2])
				s, _ := strconv.Atoi(f[3])
				acked[off] = ack{p, s}
			case len(f) == 2 && f[0] == "commit":
				c, _ := strconv.ParseUint(f[1], 10, 64)
				committed = max(committed, c)
			case len(f) > 0 && f[0] == "error":
				t.Fatalf("iteration %d (%v): child reported %s", it, mode, ln)
			}
		}

		ro, err := Open(dir, ReadOnly())
		require.NoError(t, err, "iteration %d: read-only open", it)
		roFirst, roEnd, roIgnored := ro.First(), ro.End(), ro.Recovery().Ignored
		require.NoError(t, ro.Close())
		require.NoError(t, roIgnored, "iteration %d: a kill left damage, not a torn tail", it)

		l, err := Open(dir, mixedOptions(mode)...)
		require.NoError(t, err, "iteration %d (%v)", it, mode)
		// A kill starts a new epoch at the end, unless the child died in
		// its Open before removing the clean marker this test's last Close
		// left: then nothing changed and the epoch goes on.
		if l.Recovery().NewEpoch {
			assert.Greater(t, l.Epoch().N, lastEpoch.N, "iteration %d", it)
			assert.Equal(t, l.End(), l.Epoch().Start, "iteration %d", it)
		} else {
			assert.True(t, duringOpen && l.Recovery().Clean, "iteration %d: no new epoch after a kill", it)
			assert.Equal(t, lastEpoch, l.Epoch(), "iteration %d", it)
		}
		lastEpoch = l.Epoch()
		assert.Empty(t, l.Recovery().ClampedCursors, "iteration %d: a cursor was past the end", it)
		assert.Equal(t, roEnd, l.End(), "iteration %d: read-only view differs from the recovered one", it)
		assert.LessOrEqual(t, roFirst, l.First())
		first, end := l.First(), l.End()
		rolled = rolled || first > 0
		t.Logf("iteration %d %v: killed %v after %s, %d lines; offsets %d..%d, torn %d bytes, cursor %d",
			it, mode, delay, map[bool]string{true: "opening", false: "ready"}[duringOpen], len(lines),
			first, end, l.Recovery().TornBytes, committed)
		recs := readAll(t, l, first)
		require.Len(t, recs, int(end-first))
		last := map[int]int{}
		for i, rec := range recs {
			require.Equal(t, first+uint64(i), rec.Offset)
			p, s, ok := parseMixed(rec)
			require.True(t, ok, "iteration %d: record %d was never appended", it, rec.Offset)
			if prev, seen := last[p]; seen {
				require.Greater(t, s, prev, "producer %d reordered at %d", p, rec.Offset)
			}
			last[p] = s
		}
		for off, a := range acked {
			if off < first {
				continue
			}
			require.Less(t, off, end, "iteration %d: acknowledged record %d lost", it, off)
			p, s, _ := parseMixed(recs[off-first])
			require.Equal(t, a, ack{p, s}, "iteration %d: acknowledged record %d changed", it, off)
		}
		c, err := l.Cursor("consumer")
		require.NoError(t, err)
		assert.GreaterOrEqual(t, c.Offset(), committed, "iteration %d: cursor behind its last commit", it)
		assert.LessOrEqual(t, c.Offset(), end)
		for _, r := range c.Ranges() {
			assert.LessOrEqual(t, r.Hi, end, "iteration %d: acknowledged range past the end", it)
		}
		off, err := l.AppendMsg(context.Background(), mixedBig(mixedBigProducer+1<<16+it, 0))
		require.NoError(t, err)
		require.Equal(t, end, off)
		require.NoError(t, l.Close())
	}
	if *mixedKills >= 4 {
		assert.True(t, rolled, "retention never deleted a segment")
	}
}

// killMixedOnce starts a mixed child and kills it delay after it printed
// "ready" (or "opening" when duringOpen), returning its output lines.
func killMixedOnce(t *testing.T, dir string, mode SyncMode, iter int, duringOpen bool, delay time.Duration) []string {
	t.Helper()
	cmd := childCmd(t, "mixed", dir,
		fmt.Sprintf("%s=%d", childModeEnv, int64(mode)), fmt.Sprintf("%s=%d", childIterEnv, iter))
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	trigger := "ready"
	if duringOpen {
		trigger = "opening"
	}
	sc := bufio.NewScanner(out)
	var lines []string
	var timer *time.Timer
	for sc.Scan() {
		ln := sc.Text()
		lines = append(lines, ln)
		if timer == nil && ln == trigger {
			timer = time.AfterFunc(delay, func() { _ = cmd.Process.Kill() })
		}
		if strings.HasPrefix(ln, "error") {
			_ = cmd.Process.Kill()
		}
	}
	if timer != nil {
		timer.Stop()
	}
	werr := cmd.Wait()
	require.NotNil(t, timer, "child never printed %q: %v %q", trigger, werr, lines)
	return lines
}
