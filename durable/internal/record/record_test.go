package record

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRoundTrip(t *testing.T) {
	h := Header{Offset: 41, Lag: 3, Time: 1234567, Flags: 0}
	b := Append(nil, h, []byte("hello"), nil)
	require.Len(t, b, Size(5))
	assert.Equal(t, 40, len(b))
	rec, n, err := Decode(b, 41)
	require.NoError(t, err)
	assert.Equal(t, len(b), n)
	assert.Equal(t, h, rec.Header)
	assert.Equal(t, []byte("hello"), rec.Payload)
	assert.Equal(t, uint64(38), rec.SyncedEnd())
	assert.Equal(t, uint64(42), rec.Following())

	frames := [][]byte{[]byte("a"), {}, bytes.Repeat([]byte("z"), 300)}
	m := Append(b, Header{Offset: 42, Flags: FlagMultipart}, nil, frames)
	rec, n, err = Decode(m[len(b):], 42)
	require.NoError(t, err)
	assert.Equal(t, Size(FramesSize(frames)), n)
	got, err := DecodeFrames(rec.Payload)
	require.NoError(t, err)
	assert.Equal(t, frames, got)

	g := AppendGap(nil, 7, 19, 5, 64)
	require.Len(t, g, 64)
	rec, _, err = Decode(g, 7)
	require.NoError(t, err)
	assert.True(t, rec.IsGap())
	assert.Equal(t, uint64(19), rec.Following())
	assert.Equal(t, uint64(7), rec.SyncedEnd(), "a gap record claims everything before it synced")
}

// Every field is covered: a change in any header field or payload byte is
// detected, by the CRC or by the field's own check.
func TestDecodeDetects(t *testing.T) {
	b := Append(nil, Header{Offset: 9, Lag: 2, Time: 77}, []byte("payload!"), nil)
	for i := range b {
		for bit := range 8 {
			c := bytes.Clone(b)
			c[i] ^= 1 << bit
			_, _, err := Decode(c, 9)
			require.Error(t, err, "flip of bit %d of byte %d undetected", bit, i)
		}
	}
	_, _, err := Decode(b, 10)
	assert.ErrorIs(t, err, ErrOffset)
	_, _, err = Decode(b[:len(b)-1], 9)
	assert.ErrorIs(t, err, ErrShort)
	_, _, err = Decode(b[:HeaderSize-1], 9)
	assert.ErrorIs(t, err, ErrShort)

	// A lag larger than the offset claims a synced end below zero.
	bad := Append(nil, Header{Offset: 1, Lag: 2}, nil, nil)
	_, _, err = Decode(bad, 1)
	assert.ErrorIs(t, err, ErrOffset)
	both := Append(nil, Header{Offset: 1, Flags: FlagMultipart | FlagGap}, nil, nil)
	_, _, err = Decode(both, 1)
	assert.ErrorIs(t, err, ErrFlags)
	reserved := Append(nil, Header{Offset: 1, Flags: 1 << 1}, []byte("x"), nil)
	_, _, err = Decode(reserved, 1)
	assert.ErrorIs(t, err, ErrFlags)
	frames := Append(nil, Header{Offset: 1, Flags: FlagMultipart}, nil, [][]byte{[]byte("abc")})
	binary.LittleEndian.PutUint32(frames[0:4], 9) // framing now runs past the payload
	_, _, err = Decode(frames, 1)
	require.Error(t, err)
}

func TestHugeLengthNeverAllocates(t *testing.T) {
	hdr := make([]byte, HeaderSize)
	for _, l := range []uint32{0xFFFFFFFF, MaxLen, MaxLen + 1} {
		binary.LittleEndian.PutUint32(hdr, l)
		allocs := testing.AllocsPerRun(20, func() { _, _, _ = Decode(hdr, 0) })
		assert.Zero(t, allocs, "length %d allocated", l)
	}
	_, _, err := Peek(hdr)
	assert.ErrorIs(t, err, ErrLength)
}

// Plausible's shortcut for unwritten space rests on the all-zero record
// having a non-zero CRC.
func TestZeroHeaderIsNeverARecord(t *testing.T) {
	zero := Append(nil, Header{}, nil, nil)
	require.Len(t, zero, HeaderSize)
	assert.NotZero(t, binary.LittleEndian.Uint32(zero[4:8]))
	_, _, err := Decode(make([]byte, HeaderSize), 0)
	assert.ErrorIs(t, err, ErrCRC)
	assert.False(t, Plausible(make([]byte, HeaderSize), 0, 10))
	assert.True(t, Plausible(zero, 0, 10))
	assert.False(t, Plausible(zero, 1, 10))
}

func TestLagFor(t *testing.T) {
	assert.Equal(t, uint32(0), LagFor(5, 5))
	assert.Equal(t, uint32(0), LagFor(5, 9))
	assert.Equal(t, uint32(4), LagFor(5, 1))
	assert.Equal(t, uint32(MaxLag), LagFor(1<<40, 0))
	assert.Equal(t, uint32(MaxLag-1), LagFor(MaxLag-1, 0))
}

// DecodeFrames makes the frame list in one allocation of its exact size,
// and refuses a payload whose framing runs past its end.
func TestDecodeFramesAllocatesOnce(t *testing.T) {
	frames := [][]byte{make([]byte, 9), []byte("topic"), make([]byte, 64)}
	rec, _, err := Decode(Append(nil, Header{Flags: FlagMultipart}, nil, frames), 0)
	require.NoError(t, err)
	var got [][]byte
	allocs := testing.AllocsPerRun(100, func() {
		got, err = DecodeFrames(rec.Payload)
	})
	require.NoError(t, err)
	assert.Equal(t, frames, got)
	assert.Equal(t, 3, cap(got), "no room to spare")
	assert.EqualValues(t, 1, allocs)

	_, err = DecodeFrames(rec.Payload[:len(rec.Payload)-1])
	assert.ErrorIs(t, err, ErrFraming)
	got, err = DecodeFrames(nil)
	require.NoError(t, err)
	assert.Empty(t, got)
}

// BenchmarkDecodeFrames: a journaled socket's record, a 9-byte header and
// a 64-byte message.
func BenchmarkDecodeFrames(b *testing.B) {
	frames := [][]byte{make([]byte, 9), make([]byte, 64)}
	rec, _, err := Decode(Append(nil, Header{Flags: FlagMultipart}, nil, frames), 0)
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeFrames(rec.Payload); err != nil {
			b.Fatal(err)
		}
	}
}
