package durable

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const posDir = "/positions"

func TestPositionsSemantics(t *testing.T) {
	mfs := newMemFS()
	ps, err := OpenPositions(posDir, WithFS(mfs), WithMaxAckRanges(2))
	require.NoError(t, err)
	p, err := ps.Position("0123456789abcdef0123456789abcdef")
	require.NoError(t, err)
	same, err := ps.Position(p.Name())
	require.NoError(t, err)
	assert.Same(t, p, same)
	_, ok := ps.Lookup("other")
	assert.False(t, ok)
	for _, bad := range []string{"", "../x", "LOCK", "POSITIONS", "a.tmp"} {
		_, err := ps.Position(bad)
		assert.ErrorIs(t, err, ErrInvalidName, "%q", bad)
	}

	// Offsets of another journal: nothing bounds them.
	require.NoError(t, p.AckRange(1000, 1010))
	require.NoError(t, p.Ack(2000))
	require.ErrorIs(t, p.Ack(3000), ErrRangesFull, "a third range over the limit of 2")
	assert.False(t, p.Acked(3000))
	require.NoError(t, p.AckRange(0, 1000))
	assert.Equal(t, uint64(1010), p.Offset())
	assert.Equal(t, []AckRange{{2000, 2001}}, p.Ranges())
	require.NoError(t, p.SetEpoch(4))
	assert.Equal(t, uint64(4), p.Epoch())
	require.NoError(t, ps.Commit(context.Background()))

	// A new epoch of the remote journal: acks from its stable point on go.
	require.NoError(t, p.Rewind(5, 1005))
	assert.Equal(t, uint64(1005), p.Offset())
	assert.Empty(t, p.Ranges())
	assert.Equal(t, uint64(5), p.Epoch())
	require.NoError(t, p.AckRange(1007, 1009))
	require.NoError(t, p.Rewind(6, 1008))
	assert.Equal(t, []AckRange{{1007, 1008}}, p.Ranges())
	require.NoError(t, p.Seek(42))
	assert.Equal(t, uint64(42), p.Offset())
	assert.Empty(t, p.Ranges())
	q, err := ps.Position("second")
	require.NoError(t, err)
	require.NoError(t, q.Ack(0))
	require.NoError(t, ps.Close())
	_, err = ps.Position("x")
	assert.ErrorIs(t, err, ErrClosed)
	assert.ErrorIs(t, p.Ack(1), ErrClosed)

	ps, err = OpenPositions(posDir, WithFS(mfs))
	require.NoError(t, err)
	assert.Equal(t, []string{"0123456789abcdef0123456789abcdef", "second"}, ps.Names())
	p, _ = ps.Lookup("0123456789abcdef0123456789abcdef")
	assert.Equal(t, uint64(42), p.Offset(), "Close committed")
	assert.Equal(t, uint64(6), p.Epoch())
	require.NoError(t, ps.Delete("second"))
	assert.ErrorIs(t, q.Ack(2), ErrClosed)
	assert.ErrorIs(t, ps.Delete("second"), ErrInvalidName)
	require.NoError(t, ps.Close())
	ps, err = OpenPositions(posDir, WithFS(mfs))
	require.NoError(t, err)
	assert.Equal(t, []string{"0123456789abcdef0123456789abcdef"}, ps.Names())
	require.NoError(t, ps.Close())
}

// Many goroutines committing at once share rewrites: while one commit is
// held in its fsync, 15 more callers queue, and one more commit (not 15)
// covers all of them.
func TestPositionsGroupCommit(t *testing.T) {
	mfs := newMemFS()
	ps, err := OpenPositions(posDir, WithFS(mfs))
	require.NoError(t, err)
	defer func() { require.NoError(t, ps.Close()) }()
	var dirSyncs atomic.Int64
	hold := make(chan struct{})
	entered := make(chan struct{}, 1)
	mfs.setFault(func(op, name string) error {
		if op == "syncdir" && filepath.Clean(name) == posDir {
			if dirSyncs.Add(1) == 1 {
				entered <- struct{}{}
				<-hold
			}
		}
		return nil
	})
	const n = 16
	errs := make(chan error, n)
	commit := func(i int) {
		p, err := ps.Position(fmt.Sprintf("journal-%d", i))
		if err == nil {
			err = p.Ack(uint64(i))
		}
		if err == nil {
			err = p.Commit(context.Background())
		}
		errs <- err
	}
	go commit(0)
	<-entered
	for i := 1; i < n; i++ {
		go commit(i)
	}
	require.Eventually(t, func() bool {
		ps.commit.mu.Lock()
		defer ps.commit.mu.Unlock()
		return ps.commit.requested == n
	}, 10*time.Second, time.Millisecond)
	close(hold)
	for range n {
		require.NoError(t, <-errs)
	}
	assert.Equal(t, int64(2), dirSyncs.Load(), "one commit for the 15 that queued")
	crashed := mfs.crash(rngFor(4))
	ps2, err := OpenPositions(posDir, WithFS(crashed))
	require.NoError(t, err)
	defer func() { require.NoError(t, ps2.Close()) }()
	for i := range n {
		p, ok := ps2.Lookup(fmt.Sprintf("journal-%d", i))
		require.True(t, ok, "position %d lost", i)
		assert.True(t, p.Acked(uint64(i)))
	}
}

// After a power loss each position is what its last Commit made durable;
// changes not committed are gone; a crash between the renames of a rewrite
// keeps the newer copy; a position without any valid copy comes back empty
// and is reported.
func TestPositionsCrash(t *testing.T) {
	mfs := newMemFS()
	ps, err := OpenPositions(posDir, WithFS(mfs))
	require.NoError(t, err)
	a, _ := ps.Position("a")
	b, _ := ps.Position("b")
	require.NoError(t, a.AckRange(0, 10))
	require.NoError(t, b.AckRange(0, 3))
	require.NoError(t, ps.Commit(context.Background()))
	require.NoError(t, a.AckRange(10, 20))
	require.NoError(t, ps.Commit(context.Background()))
	require.NoError(t, b.AckRange(3, 7)) // never committed
	crashed := mfs.crash(rngFor(7))
	require.NoError(t, ps.Close())

	ps, err = OpenPositions(posDir, WithFS(crashed))
	require.NoError(t, err)
	a, _ = ps.Lookup("a")
	b, _ = ps.Lookup("b")
	assert.Equal(t, uint64(20), a.Offset())
	assert.Equal(t, uint64(3), b.Offset())
	assert.Empty(t, ps.Recovery().Fallbacks)
	require.NoError(t, ps.Close())

	pa := filepath.Join(posDir, "a")
	pb := filepath.Join(posDir, "b")
	require.NoError(t, crashed.Rename(pa, pa+tmpSuffix)) // between the renames
	crashed.writeFile(pb, []byte("garbage"))
	crashed.writeFile(pb+prevSuffix, []byte("garbage"))
	ps, err = OpenPositions(posDir, WithFS(crashed))
	require.NoError(t, err)
	a, _ = ps.Lookup("a")
	b, _ = ps.Lookup("b")
	assert.Equal(t, uint64(20), a.Offset(), "the newer copy left between the renames")
	assert.Equal(t, uint64(0), b.Offset())
	assert.Equal(t, PositionsRecovery{Fallbacks: []string{"a"}, Reset: []string{"b"}}, ps.Recovery())
	assert.NotContains(t, crashed.files(), pa+tmpSuffix)
	require.NoError(t, ps.Close())
}

// The directory is made durable, a foreign directory is refused, journal
// options are refused, and a damaged marker is corruption.
func TestPositionsDirectory(t *testing.T) {
	mfs := newMemFS()
	ps, err := OpenPositions("/var/lib/app/positions", WithFS(mfs))
	require.NoError(t, err)
	p, _ := ps.Position("j")
	require.NoError(t, p.Ack(0))
	require.NoError(t, ps.Commit(context.Background()))
	crashed := mfs.crash(rngFor(1))
	require.NoError(t, ps.Close())
	ps, err = OpenPositions("/var/lib/app/positions", WithFS(crashed))
	require.NoError(t, err, "the new directory survives a power loss")
	p, ok := ps.Lookup("j")
	require.True(t, ok)
	assert.Equal(t, uint64(1), p.Offset())
	require.NoError(t, ps.Close())

	mfs.writeFile("/other/notes.txt", []byte("mine"))
	_, err = OpenPositions("/other", WithFS(mfs))
	require.ErrorIs(t, err, ErrNotJournal)
	assert.NotContains(t, mfs.files(), "/other/"+lockName)

	_, err = OpenPositions("/p2", WithFS(mfs), WithSync(Always))
	require.ErrorIs(t, err, ErrInvalidOption)
	assert.Contains(t, err.Error(), "WithSync")

	marker := filepath.Join("/var/lib/app/positions", positionsMarker)
	b := mfs.files()[marker]
	b[13] ^= 1
	mfs.writeFile(marker, b)
	_, err = OpenPositions("/var/lib/app/positions", WithFS(mfs))
	require.ErrorIs(t, err, ErrCorrupt)
}

// Two processes cannot share a positions directory.
func TestPositionsLockedByOtherProcess(t *testing.T) {
	dir := t.TempDir()
	ps, err := OpenPositions(dir)
	require.NoError(t, err)
	out, err := childCmd(t, "positions-lock", dir).Output()
	require.NoError(t, err)
	assert.Equal(t, "locked\n", string(out))
	_, err = OpenPositions(dir)
	assert.ErrorIs(t, err, ErrLocked)
	require.NoError(t, ps.Close())
	out, err = childCmd(t, "positions-lock", dir).Output()
	require.NoError(t, err)
	assert.Equal(t, "opened\n", string(out))
}

// Acks, commits, reads and deletes from many goroutines (under -race).
func TestPositionsConcurrent(t *testing.T) {
	ps, err := OpenPositions(t.TempDir())
	require.NoError(t, err)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("j%d", g%3)
			for i := range 50 {
				p, err := ps.Position(name)
				if !assert.NoError(t, err) {
					return
				}
				if err := p.Ack(uint64(g*1000 + i)); err != nil && !errors.Is(err, ErrRangesFull) {
					assert.NoError(t, err)
					return
				}
				_ = p.Acked(uint64(i))
				if i%10 == 0 {
					assert.NoError(t, ps.Commit(context.Background()))
				}
			}
		}()
	}
	wg.Wait()
	require.NoError(t, ps.Close())
	ps, err = OpenPositions(ps.Dir())
	require.NoError(t, err)
	assert.Equal(t, []string{"j0", "j1", "j2"}, ps.Names())
	require.NoError(t, ps.Close())
}
