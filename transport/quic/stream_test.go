package quic

import (
	"errors"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// shortStream is a stream whose Write hands over sent bytes of p and
// returns err with their count, as quic-go does when a write ends early.
type shortStream struct {
	sent int // how many bytes of each Write are handed over
	err  error
	got  []byte
}

func (f *shortStream) Read(p []byte) (int, error)    { return 0, io.EOF }
func (f *shortStream) TryWriteAll(p []byte) error    { return f.err }
func (f *shortStream) Close() error                  { return nil }
func (f *shortStream) SetDeadline(t time.Time) error { return nil }

func (f *shortStream) SetReadDeadline(t time.Time) error { return nil }

func (f *shortStream) Write(p []byte) (int, error) {
	n := min(f.sent, len(p))
	f.got = append(f.got, p[:n]...)
	return n, f.err
}

var errShortDeadline = errors.New("deadline exceeded")

// quic-go reports "deadline exceeded" with the whole count when Close
// races with a Write whose bytes were all packetized: the bytes went, so
// the write succeeded (else the socket re-sends what the peer got).
func TestDataStreamWriteAllHandedOverSucceeds(t *testing.T) {
	f := &shortStream{sent: 5000, err: errShortDeadline}
	d := newDataStream(f)
	n, err := d.Write(make([]byte, 5000))
	require.NoError(t, err)
	assert.Equal(t, 5000, n)
	assert.Len(t, f.got, 5000)
	assert.False(t, d.writeFailed.Load(), "nothing of a frame is left behind")
}

// A Write that handed over only part of p fails, with the count of what
// went, and the stream is marked as holding part of a frame.
func TestDataStreamWritePartialFails(t *testing.T) {
	for _, sent := range []int{0, 1253} {
		f := &shortStream{sent: sent, err: errShortDeadline}
		d := newDataStream(f)
		n, err := d.Write(make([]byte, 5000))
		require.ErrorIs(t, err, errShortDeadline)
		assert.Equal(t, sent, n)
		assert.True(t, d.writeFailed.Load())
	}
}
