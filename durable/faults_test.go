package durable

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// faultRun appends from several producers until the journal fails and
// returns what was acknowledged. It checks that the failure is sticky and
// that nothing was acknowledged beyond the durable end, which stops moving at
// the first failure.
func faultRun(t *testing.T, l *Log, producers int) map[uint64][]byte {
	t.Helper()
	var mu sync.Mutex
	acked := map[uint64][]byte{}
	var wg sync.WaitGroup
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := 0; s < 5000; s++ {
				pl := genPayload(p, s)
				off, err := l.Append(context.Background(), pl)
				if err != nil {
					assert.ErrorIs(t, err, ErrFailed)
					// Sticky: the next append fails too, without waiting.
					_, err2 := l.Append(context.Background(), []byte("x"))
					assert.ErrorIs(t, err2, ErrFailed)
					return
				}
				mu.Lock()
				acked[off] = pl
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	require.Error(t, l.Err(), "the injected fault never fired")
	assert.ErrorIs(t, l.Sync(), ErrFailed)
	durable := l.DurableEnd()
	for off := range acked {
		require.Less(t, off, durable, "offset %d acknowledged but never made durable", off)
	}
	return acked
}

// Test 6 of doc.go's failure tests: an injected fsync error fails the journal for good
// (a failed fsync is never retried), nothing is acknowledged after it, and a
// reopen (after a power loss dropping unsynced data) finds every earlier
// acknowledged record intact and nothing partial.
func TestFsyncErrorIsSticky(t *testing.T) {
	for seed := range uint64(8) {
		// Group for most seeds; Always (where appenders fsync their own
		// records) for every fourth.
		mode := Group
		if seed%4 == 3 {
			mode = Always
		}
		mfs := newMemFS()
		mfs.prealloc = seed%2 == 1
		var syncs atomic.Int64
		failAt := int64(5 + seed*7)
		mfs.setFault(func(op, name string) error {
			if op == "sync" && strings.Contains(name, segSuffix) && syncs.Add(1) == failAt {
				return syscall.EIO
			}
			return nil
		})
		opts := []Option{WithSegmentSize(4096), WithSync(mode)}
		l := openT(t, imgDir, append(opts, WithFS(mfs))...)
		acked := faultRun(t, l, 4)
		assert.ErrorIs(t, l.Err(), syscall.EIO)
		assert.Error(t, l.Close(), "Close reports the failure")

		crashed := mfs.crash(rand.New(rand.NewPCG(seed, 1)))
		l2 := openT(t, imgDir, append(opts, WithFS(crashed))...)
		verifyAfterCrash(t, l2, acked)
		require.NoError(t, l2.Close())
	}
}

// Test 6 of doc.go's failure tests: a write hitting ENOSPC fails the journal with an
// error matching both ErrFailed and ErrFull; after space is freed, reopen
// cuts the partial write and keeps every acknowledged record.
func TestDiskFull(t *testing.T) {
	for _, mode := range []SyncMode{Group, Always} {
		t.Run(mode.String(), func(t *testing.T) {
			mfs := newMemFS()
			mfs.prealloc = true
			mfs.capacity = 48 << 10
			opts := []Option{WithSegmentSize(8192), WithSync(mode)}
			l := openT(t, imgDir, append(opts, WithFS(mfs))...)
			acked := faultRun(t, l, 3)
			assert.ErrorIs(t, l.Err(), ErrFull)
			assert.ErrorIs(t, l.Err(), syscall.ENOSPC)
			assert.Error(t, l.Close())

			mfs.mu.Lock()
			mfs.capacity = 0
			mfs.mu.Unlock()
			l2 := openT(t, imgDir, append(opts, WithFS(mfs))...)
			verifyAfterCrash(t, l2, acked)
			require.NoError(t, l2.Close())
		})
	}
}

// Below the free-space floor Append fails with ErrFull before writing
// anything, the journal stays healthy, and appends resume once space is back.
func TestFreeSpaceFloor(t *testing.T) {
	mfs := newMemFS()
	mfs.capacity = 64 << 10
	l := openT(t, imgDir, WithFS(mfs), WithMinFreeBytes(32<<10))
	defer l.Close()
	var n int
	for ; ; n++ {
		_, err := l.Append(context.Background(), payloadFor(n))
		if err != nil {
			require.ErrorIs(t, err, ErrFull)
			require.False(t, errors.Is(err, ErrFailed))
			break
		}
	}
	require.Greater(t, n, 10)
	require.NoError(t, l.Err())
	size := mfs.files()[segPath(0)]
	_, err := l.Append(context.Background(), payloadFor(n))
	require.ErrorIs(t, err, ErrFull)
	assert.Equal(t, size, mfs.files()[segPath(0)], "nothing written")

	mfs.mu.Lock()
	mfs.capacity = 1 << 20
	mfs.mu.Unlock()
	appendN(t, l, n, 5)
	checkPrefix(t, l, n+5)
}

// Failures during a segment roll (creating the new file, renaming, syncing
// the directory) are sticky too and lose nothing acknowledged.
func TestRollFailure(t *testing.T) {
	for _, op := range []string{"open", "rename", "syncdir"} {
		t.Run(op, func(t *testing.T) {
			mfs := newMemFS()
			opts := []Option{WithSegmentSize(4096)}
			l := openT(t, imgDir, append(opts, WithFS(mfs))...)
			mfs.setFault(func(o, name string) error {
				if o == op && (strings.Contains(name, segSuffix) || o == "syncdir") {
					return syscall.EIO
				}
				return nil
			})
			acked := faultRun(t, l, 2)
			assert.ErrorIs(t, l.Err(), syscall.EIO)
			_ = l.Close()
			mfs.setFault(nil)
			crashed := mfs.crash(rand.New(rand.NewPCG(3, 4)))
			l2 := openT(t, imgDir, append(opts, WithFS(crashed))...)
			verifyAfterCrash(t, l2, acked)
			require.NoError(t, l2.Close())
		})
	}
}
