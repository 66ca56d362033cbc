package pyzmq

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestFramesRoundTrip(t *testing.T) {
	frames := [][]byte{[]byte("a"), {}, {0, 0xFF}}
	got, err := DecodeFrames(EncodeFrames(frames))
	require.NoError(t, err)
	assert.Equal(t, frames, got)
	_, err = DecodeFrames("not json")
	assert.Error(t, err)
	_, err = DecodeFrames(`["zz"]`)
	assert.Error(t, err)
}

func TestEcho(t *testing.T) {
	Require(t)
	p := Start(t, Prelude+`
for line in sys.stdin:
    emit(*hexed(unhex(line)))
`)
	frames := [][]byte{[]byte("hello"), {}}
	p.Send(EncodeFrames(frames))
	got, err := DecodeFrames(p.Line(0))
	require.NoError(t, err)
	assert.Equal(t, frames, got)
	p.CloseInput()
	p.Wait(0)
}
