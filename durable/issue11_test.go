package durable

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Issue 11 item 8: intervals below the floor are refused, with an error that
// says why (not the sentinel's raw value), and Interval mode costs nothing
// while idle: its timer runs only while written records wait for a sync.
func TestIntervalOptions(t *testing.T) {
	for _, d := range []time.Duration{0, -time.Second, 1, time.Microsecond, MinInterval - 1} {
		_, err := Open(t.TempDir(), WithSync(Interval(d)))
		require.ErrorIs(t, err, ErrInvalidOption, "Interval(%v)", d)
		assert.NotContains(t, err.Error(), "9223372036854775808")
		assert.Contains(t, err.Error(), "1ms")
	}
	l := openT(t, t.TempDir(), WithSync(Interval(MinInterval)))
	defer func() { require.NoError(t, l.Close()) }()
	ctx := context.Background()
	off, err := l.Append(ctx, []byte("x"))
	require.NoError(t, err)
	require.NoError(t, l.WaitDurable(ctx, off), "the timer syncs what was written")
	ticks := l.ticks.Load()
	require.Positive(t, ticks)
	// Observing an absence: whatever the machine's speed, an idle journal
	// gets no timer wakeups at all (a 1 ms ticker would have fired ~30).
	time.Sleep(30 * time.Millisecond)
	assert.Equal(t, ticks, l.ticks.Load(), "the interval timer fired while idle")
}

// Issue 11 item 9: Open refuses a non-empty directory that is not a journal
// and writes nothing into it; an empty one, or one a crash left with only
// LOCK and temporary files, becomes a journal.
func TestOpenForeignDirectory(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644))
	_, err := Open(dir)
	require.ErrorIs(t, err, ErrNotJournal)
	assert.Contains(t, err.Error(), "notes.txt")
	names, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, names, 1, "Open wrote into a foreign directory")

	crashed := t.TempDir()
	for _, n := range []string{lockName, metaName + tmpSuffix} {
		require.NoError(t, os.WriteFile(filepath.Join(crashed, n), []byte("half"), 0o644))
	}
	l := openT(t, crashed)
	appendN(t, l, 0, 3)
	require.NoError(t, l.Close())

	// A journal with its META lost is a damaged journal, not a foreign one.
	require.NoError(t, os.Remove(filepath.Join(crashed, metaName)))
	_, err = Open(crashed)
	require.ErrorIs(t, err, ErrCorrupt)
}

// Issue 11 item 10: a Reader positioned past the end (an offset no record
// has) fails with ErrOutOfRange instead of waiting forever, unless made with
// WaitPastEnd; a Reader at the end still waits for the next record.
func TestReaderPastEnd(t *testing.T) {
	l := openT(t, t.TempDir())
	defer func() { require.NoError(t, l.Close()) }()
	appendN(t, l, 0, 5)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := l.NewReader(9)
	_, err := r.Next(ctx)
	var oe *OutOfRangeError
	require.ErrorAs(t, err, &oe)
	assert.ErrorIs(t, err, ErrOutOfRange)
	assert.Equal(t, OutOfRangeError{Offset: 9, First: 0, End: 5}, *oe)
	assert.Contains(t, err.Error(), "past the end 5")
	assert.Equal(t, uint64(9), r.Offset(), "the Reader does not move")
	require.NoError(t, r.Close())

	got := make(chan Record, 2)
	errs := make(chan error, 2)
	for _, rd := range []*Reader{l.NewReader(5), l.NewReader(7, WaitPastEnd())} {
		go func() {
			defer rd.Close()
			rec, err := rd.Next(ctx)
			errs <- err
			got <- rec
		}()
	}
	appendN(t, l, 5, 3)
	for range 2 {
		require.NoError(t, <-errs)
	}
	offs := []uint64{(<-got).Offset, (<-got).Offset}
	assert.ElementsMatch(t, []uint64{5, 7}, offs)

	// A read-only Log gives the same answer once it has looked.
	ro := openT(t, l.Dir(), ReadOnly())
	defer func() { require.NoError(t, ro.Close()) }()
	_, err = ro.NewReader(100).Next(ctx)
	require.ErrorIs(t, err, ErrOutOfRange)
}

// Epochs: a new journal is epoch 1 from 0; a clean reopen keeps the epoch;
// a reopen after a crash (no clean marker) starts a new epoch at the end,
// and StableSince tells a consumer of an older epoch where to read again.
func TestEpochs(t *testing.T) {
	mfs := newMemFS()
	l := openT(t, imgDir, WithFS(mfs), WithSync(None))
	assert.Equal(t, Epoch{N: 1, Start: 0}, l.Epoch())
	assert.False(t, l.Recovery().NewEpoch)
	appendN(t, l, 0, 10)
	require.NoError(t, l.Close())

	l = openT(t, imgDir, WithFS(mfs), WithSync(None))
	assert.Equal(t, Epoch{N: 1, Start: 0}, l.Epoch(), "a clean reopen keeps the epoch")
	appendN(t, l, 10, 10)
	require.NoError(t, l.Sync())
	appendN(t, l, 20, 10) // visible, never synced
	require.NoError(t, l.WaitVisible(context.Background(), 29))
	crashed := mfs.crash(rngFor(1))
	require.NoError(t, l.Close())

	l = openT(t, imgDir, WithFS(crashed), WithSync(None))
	end := l.End()
	require.GreaterOrEqual(t, end, uint64(20))
	assert.True(t, l.Recovery().NewEpoch)
	assert.Equal(t, Epoch{N: 2, Start: end}, l.Epoch())
	assert.Equal(t, end, l.StableSince(1))
	assert.Equal(t, uint64(1<<64-1), l.StableSince(2))
	assert.Equal(t, uint64(0), l.StableSince(3), "an epoch the journal never had")
	require.NoError(t, l.Close())

	// The epoch is persisted: a clean reopen keeps epoch 2, a process kill
	// (no marker, nothing lost) still starts epoch 3.
	l = openT(t, imgDir, WithFS(crashed))
	assert.Equal(t, Epoch{N: 2, Start: end}, l.Epoch())
	appendN(t, l, int(end), 1)
	killed := crashed.crash(rngFor(2))
	require.NoError(t, l.Close())
	l = openT(t, imgDir, WithFS(killed))
	assert.Equal(t, Epoch{N: 3, Start: end + 1}, l.Epoch())
	assert.Equal(t, []Epoch{{1, 0}, {2, end}, {3, end + 1}}, l.Epochs())
	assert.Equal(t, end, l.StableSince(1))
	assert.Equal(t, end+1, l.StableSince(2))
	require.NoError(t, l.Close())
}

// META remembers 64 epochs; StableSince for a forgotten one is the lowest
// start of the forgotten ones: possibly too low, never too high.
func TestEpochHistoryBounded(t *testing.T) {
	m := metaInfo{epochs: []Epoch{{1, 0}}, dropped: 1<<64 - 1}
	for i := range uint64(100) {
		m = m.next(10 + i*10)
	}
	require.Len(t, m.epochs, maxEpochs)
	assert.Equal(t, uint64(101), m.epoch().N)
	b := encodeMeta(m)
	back, err := decodeMeta(b)
	require.NoError(t, err)
	assert.Equal(t, m, back)
	oldest := m.epochs[0]
	assert.Equal(t, oldest.Start+10, m.stableSince(oldest.N), "a remembered epoch: the next one's start")
	assert.Equal(t, uint64(0), m.stableSince(1), "a forgotten epoch: the lowest forgotten start")
	assert.LessOrEqual(t, m.stableSince(20), uint64(20*10))
}

// Issue 11 item 10, resuming against a replaced or rewound journal:
// CheckResume tells a consumer whose stored position came from another
// journal, from records since dropped, or from beyond the end.
func TestCheckResume(t *testing.T) {
	mfs := newMemFS()
	l := openT(t, imgDir, WithFS(mfs), WithSync(None))
	appendN(t, l, 0, 10)
	require.NoError(t, l.Sync())
	appendN(t, l, 10, 10)
	require.NoError(t, l.WaitVisible(context.Background(), 19))
	id, e1 := l.ID(), l.Epoch().N
	require.NoError(t, l.CheckResume(id, e1, 20))
	mfs.mu.Lock()
	synced := len(mfs.dirs[imgDir].live[segName(0)].synced)
	mfs.mu.Unlock()
	crashed := mfs.crash(rngFor(9))
	require.NoError(t, l.Close())
	// A power loss took every unsynced record.
	crashed.writeFile(segPath(0), crashed.files()[segPath(0)][:synced])

	l = openT(t, imgDir, WithFS(crashed))
	defer func() { require.NoError(t, l.Close()) }()
	require.Equal(t, uint64(10), l.End())
	require.NoError(t, l.CheckResume(id, e1, 10), "everything below 10 is what epoch 1 saw")
	err := l.CheckResume(id, e1, 15)
	var re *RewoundError
	require.ErrorAs(t, err, &re)
	assert.ErrorIs(t, err, ErrRewound)
	assert.Equal(t, RewoundError{Epoch: e1, Offset: 15, Stable: 10}, *re)
	assert.ErrorIs(t, l.CheckResume(JournalID{9}, e1, 3), ErrOtherJournal)
	assert.ErrorIs(t, l.CheckResume(id, l.Epoch().N, 11), ErrOutOfRange)
	assert.NoError(t, l.CheckResume(id, l.Epoch().N, 10))
}

// Changed is closed at the next change of End and when the Log closes.
func TestChanged(t *testing.T) {
	l := openT(t, t.TempDir())
	ch := l.Changed()
	select {
	case <-ch:
		t.Fatal("closed before any change")
	default:
	}
	appendN(t, l, 0, 1)
	<-ch // the append made the record visible
	ch = l.Changed()
	require.NoError(t, l.Close())
	<-ch
	<-l.Changed() // a closed Log returns a closed channel
}

// The sticky failure and the other refusals reach AppendAsync as they reach
// Append, before anything is queued.
func TestAppendAsyncErrors(t *testing.T) {
	ctx := context.Background()
	l := openT(t, t.TempDir(), WithMaxRecordSize(100))
	_, err := l.AppendAsync(ctx, make([]byte, 101))
	require.ErrorIs(t, err, ErrTooLarge)
	off, err := l.AppendMsgAsync(ctx, [][]byte{[]byte("a"), []byte("b")})
	require.NoError(t, err)
	require.NoError(t, l.WaitDurable(ctx, off))
	require.ErrorIs(t, l.WaitDurable(ctx, off+1), ErrOutOfRange, "an offset never assigned")
	require.NoError(t, l.Close())
	_, err = l.AppendAsync(ctx, []byte("x"))
	require.ErrorIs(t, err, ErrClosed)

	mfs := newMemFS()
	mfs.capacity = 64 << 10
	full := openT(t, imgDir, WithFS(mfs), WithMinFreeBytes(60<<10))
	_, err = full.AppendAsync(ctx, make([]byte, 8<<10))
	require.ErrorIs(t, err, ErrFull)
	require.NoError(t, full.Err(), "the floor refuses before writing: not a failure")
	require.NoError(t, full.Close())

	mfs = newMemFS()
	failing := openT(t, imgDir, WithFS(mfs))
	mfs.setFault(func(op, name string) error {
		if op == "sync" && strings.Contains(name, segSuffix) {
			return errors.New("injected fsync failure")
		}
		return nil
	})
	off, err = failing.AppendAsync(ctx, []byte("doomed"))
	require.NoError(t, err, "queued before the failure")
	require.ErrorIs(t, failing.WaitDurable(ctx, off), ErrFailed)
	_, err = failing.AppendAsync(ctx, []byte("after"))
	require.ErrorIs(t, err, ErrFailed, "sticky")
	require.Error(t, failing.Close())
}

// Backpressure: with the queue full (the writer stuck in a slow fsync),
// AppendAsync blocks, and a ctx that ends while it waits queues nothing.
func TestAppendAsyncBackpressure(t *testing.T) {
	mfs := newMemFS()
	l := openT(t, imgDir, WithFS(mfs), WithMaxPendingBytes(4<<10))
	entered, release := holdSegmentSyncs(mfs)
	ctx := context.Background()
	first, err := l.AppendAsync(ctx, make([]byte, 100))
	require.NoError(t, err)
	<-entered // the writer holds the first batch in its fsync
	var last uint64
	for l.pendingBytes4Test() < 4<<10-200 {
		last, err = l.AppendAsync(ctx, make([]byte, 100))
		require.NoError(t, err)
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	for err == nil {
		last, err = l.AppendAsync(short, make([]byte, 100))
	}
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Zero(t, last, "nothing queued when the wait for room ends")
	close(release)
	require.NoError(t, l.WaitDurable(ctx, first))
	require.NoError(t, l.Sync())
	end := l.End()
	require.NoError(t, l.Close())
	l = openT(t, imgDir, WithFS(mfs))
	assert.Equal(t, end, l.End())
	require.NoError(t, l.Close())
}

// Stats carries what a metrics collector exports: the epoch, counters of
// appends, bytes, syncs and segments, and the failure state.
func TestStatsCounters(t *testing.T) {
	mfs := newMemFS()
	l := openT(t, imgDir, WithFS(mfs), WithSegmentSize(4096), WithRetainBytes(8<<10))
	appendN(t, l, 0, 100)
	st := l.Stats()
	assert.Equal(t, Epoch{N: 1}, st.Epoch)
	assert.NoError(t, st.Failed)
	assert.Equal(t, uint64(100), st.Appends)
	var payload, written uint64
	for i := range 100 {
		payload += uint64(len(payloadFor(i)))
		written += uint64(recordSizeFor(i))
	}
	assert.Equal(t, payload, st.AppendedBytes)
	assert.Equal(t, written, st.WrittenBytes)
	assert.GreaterOrEqual(t, st.Syncs, uint64(1))
	assert.Positive(t, st.SyncTime)
	assert.Positive(t, st.WriteTime)
	assert.Equal(t, uint64(len(st.Segments)-1)+st.DeletedSegments, st.Rolls)
	assert.Positive(t, st.DeletedSegments)
	assert.Zero(t, st.PendingBytes)

	mfs.setFault(func(op, name string) error {
		if op == "write" {
			return errors.New("injected write failure")
		}
		return nil
	})
	_, err := l.Append(context.Background(), []byte("x"))
	require.ErrorIs(t, err, ErrFailed)
	assert.ErrorIs(t, l.Stats().Failed, ErrFailed)
	require.Error(t, l.Close())
}

// A read-only Log tailing a writer that crashes and recovers: if nothing it
// has seen was dropped it goes on and adopts the new epoch; if recovery cut
// records it had seen, it fails with ErrRewound instead of getting stuck or
// mixing two epochs' records.
func TestReadOnlyFollowsEpochs(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	mfs := newMemFS()
	w := openT(t, imgDir, WithFS(mfs))
	appendN(t, w, 0, 30)
	require.NoError(t, w.Close())
	ro := openT(t, imgDir, WithFS(mfs), ReadOnly(), WithPollInterval(time.Millisecond))
	defer func() { require.NoError(t, ro.Close()) }()
	r := ro.NewReader(0)
	defer r.Close()
	for i := range 30 {
		_, err := r.Next(ctx)
		require.NoError(t, err, "record %d", i)
	}

	// A kill that lost nothing: the writer starts epoch 2 at 30.
	require.NoError(t, mfs.Remove(filepath.Join(imgDir, cleanName)))
	w = openT(t, imgDir, WithFS(mfs))
	require.Equal(t, Epoch{N: 2, Start: 30}, w.Epoch())
	appendN(t, w, 30, 5)
	for i := 30; i < 35; i++ {
		rec, err := r.Next(ctx)
		require.NoError(t, err)
		require.Equal(t, payloadFor(i), rec.Data)
	}
	require.NoError(t, ro.Refresh())
	assert.Equal(t, Epoch{N: 2, Start: 30}, ro.Epoch(), "adopted once nothing new was found")
	require.NoError(t, w.Close())

	// A power loss that took records the read-only Log has seen: the
	// writer's recovery cuts back to 20 and writes other records there.
	seg := mfs.files()[segPath(0)]
	var cut int64 = segHdrSize
	for i := range 20 {
		cut += int64(recordSizeFor(i))
	}
	mfs.writeFile(segPath(0), seg[:cut+5])
	require.NoError(t, mfs.Remove(filepath.Join(imgDir, cleanName)))
	require.NoError(t, mfs.Remove(filepath.Join(imgDir, idxName(0))))
	w = openT(t, imgDir, WithFS(mfs))
	require.Equal(t, Epoch{N: 3, Start: 20}, w.Epoch())
	for i := range 30 {
		_, err := w.Append(ctx, payloadFor(1000+i))
		require.NoError(t, err)
	}
	_, err := r.Next(ctx)
	var re *RewoundError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, RewoundError{Epoch: 2, Offset: 35, Stable: 20}, *re)
	assert.ErrorIs(t, ro.Refresh(), ErrRewound, "sticky")
	require.NoError(t, w.Close())
}

// A journal of format version 1 is refused with ErrFormatVersion (not
// ErrCorrupt), and no repair policy touches it.
func TestOldFormatVersionRefused(t *testing.T) {
	mfs := newMemFS()
	l := openT(t, imgDir, WithFS(mfs))
	appendN(t, l, 0, 3)
	require.NoError(t, l.Close())
	meta := filepath.Join(imgDir, metaName)
	b := mfs.files()[meta]
	binary.LittleEndian.PutUint32(b[8:12], 1)
	sealCRC(b)
	mfs.writeFile(meta, b)
	before := mfs.files()
	for _, repair := range []RepairPolicy{RepairNone, RepairTruncate, RepairSkip} {
		_, err := Open(imgDir, WithFS(mfs), WithRepair(repair))
		require.ErrorIs(t, err, ErrFormatVersion)
		assert.NotErrorIs(t, err, ErrCorrupt)
		assert.Contains(t, err.Error(), "format version 1")
	}
	assert.Equal(t, before, mfs.files())
}
