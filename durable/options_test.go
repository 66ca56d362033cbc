package durable

import (
	"bytes"
	"context"
	"github.com/brookmq/brook/durable/internal/record"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestInvalidOptions(t *testing.T) {
	for name, opt := range map[string]Option{
		"segment-small":  WithSegmentSize(100),
		"segment-age":    WithSegmentAge(-1),
		"max-record":     WithMaxRecordSize(0),
		"index":          WithIndexInterval(1),
		"retain-bytes":   WithRetainBytes(-1),
		"retain-age":     WithRetainAge(-time.Second),
		"repair":         WithRepair(RepairPolicy(9)),
		"fs":             WithFS(nil),
		"logger":         WithLogger(nil),
		"cursor-persist": WithCursorPersistInterval(-1),
		"ack-ranges":     WithMaxAckRanges(-1),
		"poll":           WithPollInterval(0),
		"clock":          WithClock(nil),
		"sync":           WithSync(SyncMode(-5)),
		// Interval(0) and negative intervals must not alias Group, Always
		// or None.
		"interval-zero":     WithSync(Interval(0)),
		"interval-always":   WithSync(Interval(time.Duration(Always))),
		"interval-none":     WithSync(Interval(time.Duration(None))),
		"interval-negative": WithSync(Interval(-time.Second)),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Open(t.TempDir(), opt)
			assert.ErrorIs(t, err, ErrInvalidOption)
		})
	}
}

func TestSyncModeString(t *testing.T) {
	assert.Equal(t, "group", Group.String())
	assert.Equal(t, "always", Always.String())
	assert.Equal(t, "none", None.String())
	assert.Equal(t, "interval(5ms)", Interval(5*time.Millisecond).String())
	assert.Equal(t, "SyncMode(-9)", SyncMode(-9).String())
}

func TestMaxRecordSize(t *testing.T) {
	l := openT(t, t.TempDir(), WithMaxRecordSize(100))
	defer l.Close()
	_, err := l.Append(context.Background(), make([]byte, 101))
	assert.ErrorIs(t, err, ErrTooLarge)
	_, err = l.AppendMsg(context.Background(), [][]byte{make([]byte, 60), make([]byte, 60)})
	assert.ErrorIs(t, err, ErrTooLarge)
	_, err = l.Append(context.Background(), make([]byte, 100))
	assert.NoError(t, err)
	// A record can never exceed what one segment holds.
	l2 := openT(t, t.TempDir(), WithSegmentSize(4096), WithMaxRecordSize(1<<20))
	defer l2.Close()
	_, err = l2.Append(context.Background(), make([]byte, 4096))
	assert.ErrorIs(t, err, ErrTooLarge)
	_, err = l2.Append(context.Background(), make([]byte, 4096-segHdrSize-record.HeaderSize))
	assert.NoError(t, err)
	// With a segment size that is not a multiple of 8 the padded record
	// must still fit: the bound is rounded down.
	l3 := openT(t, t.TempDir(), WithSegmentSize(4099), WithMaxRecordSize(1<<20))
	defer l3.Close()
	_, err = l3.Append(context.Background(), make([]byte, 4099-segHdrSize-record.HeaderSize))
	assert.ErrorIs(t, err, ErrTooLarge)
	_, err = l3.Append(context.Background(), make([]byte, 4096-segHdrSize-record.HeaderSize))
	assert.NoError(t, err)
	assert.LessOrEqual(t, l3.Stats().Segments[0].Size, int64(4099))
}

func TestMetaDamage(t *testing.T) {
	dir := t.TempDir()
	var logs bytes.Buffer
	l := openT(t, dir, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	id := l.ID()
	assert.Equal(t, dir, l.Dir())
	assert.Len(t, id.String(), 32)
	appendN(t, l, 0, 10)
	require.NoError(t, l.Close())
	meta := filepath.Join(dir, metaName)

	b, err := os.ReadFile(meta)
	require.NoError(t, err)
	b[20] ^= 1
	require.NoError(t, os.WriteFile(meta, b, 0o644))
	_, err = Open(dir)
	var ce *CorruptError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, metaName, ce.File)
	assert.Contains(t, ce.Error(), "META")

	require.NoError(t, os.Remove(meta))
	_, err = Open(dir)
	require.ErrorIs(t, err, ErrCorrupt)

	// Repair takes the id back from the first segment's header.
	l = openT(t, dir, WithRepair(RepairTruncate))
	assert.Equal(t, id, l.ID())
	assert.ErrorIs(t, l.Recovery().Repaired, ErrCorrupt)
	checkPrefix(t, l, 10)
	require.NoError(t, l.Close())

	// A segment from another journal is refused.
	other := t.TempDir()
	o := openT(t, other)
	appendN(t, o, 0, 1)
	require.NoError(t, o.Close())
	seg, err := os.ReadFile(filepath.Join(other, segName(0)))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, segName(10)), seg, 0o644))
	_, err = Open(dir)
	require.ErrorIs(t, err, ErrCorrupt, "the clean shutdown marker names other segments")
	require.NoError(t, os.Remove(filepath.Join(dir, cleanName)))
	_, err = Open(dir)
	require.ErrorIs(t, err, ErrCorrupt)
	assert.Contains(t, err.Error(), "segment 00000000000000000010")
}

// The operating system's FS: a torn tail is cut with ftruncate and kept
// under lost/, and the free-space floor reads statfs.
func TestOSFileSystem(t *testing.T) {
	dir := t.TempDir()
	l := openT(t, dir, WithMinFreeBytes(1))
	appendN(t, l, 0, 20)
	require.NoError(t, l.Close())
	seg := filepath.Join(dir, segName(0))
	st, err := os.Stat(seg)
	require.NoError(t, err)
	require.NoError(t, os.Truncate(seg, st.Size()-7))
	require.NoError(t, os.Remove(filepath.Join(dir, cleanName)))
	l = openT(t, dir)
	checkPrefix(t, l, 19)
	lost := l.Recovery().LostFiles
	require.Len(t, lost, 1)
	cut, err := os.ReadFile(filepath.Join(dir, lost[0]))
	require.NoError(t, err)
	assert.Equal(t, int(st.Size()-7)-int(l.Stats().Bytes), len(cut))
	require.NoError(t, l.Close())

	l, err = Open(dir, WithMinFreeBytes(1<<62))
	require.NoError(t, err, "the floor is checked on append, not on open")
	_, err = l.Append(context.Background(), []byte("x"))
	assert.ErrorIs(t, err, ErrFull)
	require.NoError(t, l.Close())
}

func TestErrorStrings(t *testing.T) {
	ce := &CorruptError{Segment: 5, Offset: 7, Pos: 96, Reason: "record checksum mismatch"}
	assert.Equal(t, "brook: journal corrupt: segment 00000000000000000005 offset 7 (byte 96): record checksum mismatch", ce.Error())
	fe := &FailedError{Op: "fsync", Err: os.ErrInvalid}
	assert.True(t, strings.HasPrefix(fe.Error(), "brook: journal failed: fsync: "))
	assert.ErrorIs(t, fe, ErrFailed)
	assert.ErrorIs(t, fe, os.ErrInvalid)
}
