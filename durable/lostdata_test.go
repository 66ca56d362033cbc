package durable

import (
	"context"
	"errors"
	"flag"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// crashRun appends from several producers (with a consumer acking and
// committing a cursor, so segment rolls, retention and cursor rewrites all
// happen) until stop returns true, then takes a crash image of fsys under the
// acknowledgement lock: every append acknowledged before the image must be in
// it.
type crashRun struct {
	mu     sync.Mutex
	acked  map[uint64][]byte
	seen   map[uint64][]byte // records a Reader returned before the crash
	frozen bool
}

func (c *crashRun) saw(off uint64, p []byte) {
	c.mu.Lock()
	if !c.frozen {
		c.seen[off] = p
	}
	c.mu.Unlock()
}

func (c *crashRun) ack(off uint64, p []byte) {
	c.mu.Lock()
	if !c.frozen {
		c.acked[off] = p
	}
	c.mu.Unlock()
}

var crashIters = flag.Int("durable.crashes", 12, "power losses per sync mode in TestLostUnsyncedData")

// Test 2 of doc.go's failure tests, the crash-model loop: a fault-injecting
// file layer simulates a power loss that drops, tears, reorders and holes
// whatever was not fsynced (directory entries of unsynced renames too) while
// producers append, a consumer acks and commits, segments roll and
// retention runs. No acknowledged append is lost under Always or Group, and
// Interval and None (which may lose acknowledged appends on power loss)
// still reopen to a gapless prefix of what was appended. A new epoch starts
// at the end, and every record a Reader returned before the crash below
// StableSince(the old epoch) is still there, unchanged. Run longer with
// -durable.crashes=N.
func TestLostUnsyncedData(t *testing.T) {
	iters := *crashIters
	if testing.Short() {
		iters = min(iters, 4)
	}
	for _, mode := range []SyncMode{Group, Always, Interval(2 * time.Millisecond), None} {
		t.Run(mode.String(), func(t *testing.T) {
			var total crashTally
			for it := range iters {
				total.add(lostDataIteration(t, mode, uint64(it)))
			}
			t.Logf("%d power losses: %d acknowledged records checked, %d records seen before a crash, %d of them dropped by it (at or above the new epoch's start), %d torn bytes cut",
				iters, total.acked, total.seen, total.dropped, total.torn)
		})
	}
}

// crashTally counts what a crash-model iteration checked.
type crashTally struct{ acked, seen, dropped, torn int64 }

func (c *crashTally) add(o crashTally) {
	c.acked += o.acked
	c.seen += o.seen
	c.dropped += o.dropped
	c.torn += o.torn
}

func lostDataIteration(t *testing.T, mode SyncMode, seed uint64) (tally crashTally) {
	rng := rand.New(rand.NewPCG(seed, uint64(mode)+99))
	mfs := newMemFS()
	mfs.prealloc = seed%2 == 0 // segments preallocated or growing
	opts := []Option{WithFS(mfs), WithSync(mode), WithSegmentSize(4096),
		WithRetainConsumed(), WithCursorPersistInterval(0), WithIndexInterval(256)}
	l := openT(t, "/j", opts...)
	cur, err := l.Cursor("c")
	require.NoError(t, err)
	run := &crashRun{acked: map[uint64][]byte{}, seen: map[uint64][]byte{}}
	epoch := l.Epoch()
	target := 20 + rng.IntN(150)
	reached := make(chan struct{})
	var once sync.Once
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for p := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := 0; ctx.Err() == nil; s++ {
				pl := genPayload(p, s)
				off, err := l.Append(ctx, pl)
				if err != nil {
					return
				}
				run.ack(off, pl)
				run.mu.Lock()
				n := len(run.acked)
				run.mu.Unlock()
				if n >= target {
					once.Do(func() { close(reached) })
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		r := l.NewReader(0)
		defer r.Close()
		for {
			rec, err := r.Next(ctx)
			if err != nil {
				return
			}
			run.saw(rec.Offset, rec.Data)
			if cur.Ack(rec.Offset) != nil {
				return
			}
			if rec.Offset%7 == 0 && cur.Commit() != nil {
				return
			}
		}
	}()
	<-reached
	var crashed *memFS
	if mode != None && rng.IntN(2) == 0 {
		// Lose power inside the next fsync of a segment: the batch being
		// group-committed is written but not synced, so the crash model
		// has unsynced pages to reorder and hole.
		done := make(chan struct{})
		var once sync.Once
		mfs.setFault(func(op, name string) error {
			if op == "sync" && strings.Contains(name, segSuffix) {
				once.Do(func() {
					run.mu.Lock()
					crashed = mfs.crashLocked(rng)
					run.frozen = true
					run.mu.Unlock()
					close(done)
				})
			}
			return nil
		})
		<-done
	} else {
		run.mu.Lock()
		crashed = mfs.crash(rng)
		run.frozen = true
		run.mu.Unlock()
	}
	cancel()
	wg.Wait()
	_ = l.Close()

	l2, err := Open("/j", append(opts[1:], WithFS(crashed))...)
	require.NoError(t, err, "seed %d", seed)
	defer func() { require.NoError(t, l2.Close()) }()
	require.Equal(t, Epoch{N: epoch.N + 1, Start: l2.End()}, l2.Epoch())
	stable := l2.StableSince(epoch.N)
	require.Equal(t, l2.End(), stable)
	recs := readAll(t, l2, l2.First())
	for off, data := range run.seen {
		if off >= l2.First() && off < stable {
			require.Equal(t, data, recs[off-l2.First()].Data, "seed %d: record %d seen before the crash changed", seed, off)
		}
		if off >= stable {
			tally.dropped++
		}
	}
	tally.seen, tally.torn = int64(len(run.seen)), l2.Recovery().TornBytes
	if mode.acksDurable() {
		for off := range run.acked {
			require.Less(t, off, stable, "seed %d: acknowledged record %d not below the stable point", seed, off)
		}
		verifyAfterCrash(t, l2, run.acked)
		tally.acked = int64(len(run.acked))
	} else {
		verifyAfterCrash(t, l2, nil)
	}
	c2, err := l2.Cursor("c")
	require.NoError(t, err)
	assert.LessOrEqual(t, l2.First(), c2.Offset(), "retention deleted unconsumed records")
	assert.LessOrEqual(t, c2.Offset(), l2.End())
	return tally
}

// verifyAfterCrash checks a reopened journal: a gapless run of records that
// were all really appended (each producer's sequence numbers increasing),
// every acknowledged record at or above First present and identical, and
// appends working afterwards.
func verifyAfterCrash(t *testing.T, l *Log, acked map[uint64][]byte) {
	t.Helper()
	verifyAfterCrashThen(t, l, acked, genPayload(1<<19, 0))
}

// verifyAfterCrashThen is verifyAfterCrash appending next as the record that
// shows appends work.
func verifyAfterCrashThen(t *testing.T, l *Log, acked map[uint64][]byte, next []byte) {
	t.Helper()
	first, end := l.First(), l.End()
	recs := readAll(t, l, first)
	require.Len(t, recs, int(end-first))
	lastSeq := map[int]int{}
	for i, rec := range recs {
		require.Equal(t, first+uint64(i), rec.Offset)
		p, s, ok := parsePayload(rec.Data)
		require.True(t, ok, "record %d was never appended: %q", rec.Offset, rec.Data)
		if prev, seen := lastSeq[p]; seen {
			require.Greater(t, s, prev, "producer %d reordered or duplicated at %d", p, rec.Offset)
		}
		lastSeq[p] = s
	}
	for off, pl := range acked {
		if off < first {
			continue
		}
		require.Less(t, off, end, "acknowledged record %d lost (end %d)", off, end)
		require.Equal(t, pl, recs[off-first].Data, "acknowledged record %d changed", off)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	off, err := l.Append(ctx, next)
	require.NoError(t, err)
	require.Equal(t, end, off)
	require.False(t, errors.Is(l.Err(), ErrFailed))
}
