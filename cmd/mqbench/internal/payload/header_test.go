package payload_test

import (
	"testing"

	"github.com/brookmq/brook/cmd/mqbench/internal/payload"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHeaderRoundTrip(t *testing.T) {
	for _, h := range []payload.Header{
		{},
		{Seq: 1<<64 - 1, Intended: -5, Sent: 1 << 62, Stream: 65535, Kind: payload.Ready, Phase: 255},
		{Seq: 42, Intended: 1_700_000_000_000_000_000, Sent: 1_700_000_000_000_000_123, Stream: 3, Kind: payload.End, Phase: 2},
	} {
		b := make([]byte, payload.HeaderSize+10)
		h.Put(b)
		got, err := payload.Parse(b)
		require.NoError(t, err)
		assert.Equal(t, h, got)
	}
}

func TestParseRejects(t *testing.T) {
	_, err := payload.Parse(make([]byte, payload.HeaderSize-1))
	require.ErrorIs(t, err, payload.ErrShort)
	b := make([]byte, payload.HeaderSize)
	b[26] = 200
	_, err = payload.Parse(b)
	require.ErrorIs(t, err, payload.ErrKind)
}

func TestSetStream(t *testing.T) {
	b := make([]byte, payload.HeaderSize)
	(&payload.Header{Seq: 7, Stream: 1}).Put(b)
	payload.SetStream(b, 9)
	h, err := payload.Parse(b)
	require.NoError(t, err)
	assert.EqualValues(t, 9, h.Stream)
	assert.EqualValues(t, 7, h.Seq)
}

func TestKindString(t *testing.T) {
	assert.Equal(t, "end", payload.End.String())
	assert.Equal(t, "Kind(99)", payload.Kind(99).String())
}

func FuzzParse(f *testing.F) {
	b := make([]byte, payload.HeaderSize)
	(&payload.Header{Seq: 1, Kind: payload.Data}).Put(b)
	f.Add(b)
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := payload.Parse(data)
		if err != nil {
			return
		}
		out := make([]byte, payload.HeaderSize)
		h.Put(out)
		assert.Equal(t, data[:payload.HeaderSize], out)
	})
}
