package zmtp

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

// fillUntil calls FillBuffer until the read buffer holds n unparsed
// bytes.
func fillUntil(t *testing.T, c *Conn, n int) {
	t.Helper()
	for c.rend-c.rpos < n {
		more, err := c.FillBuffer()
		require.NoError(t, err)
		require.True(t, more)
	}
}

// A read interrupted in the middle of a message loses nothing: what was
// read stays in the buffer, the connection lives on, and once the rest
// arrives the message comes whole, inline or through ReadMsg.
func TestFillBufferInterruptedMidMessage(t *testing.T) {
	// Heartbeats on (never due) so that reads are timed: readSince says
	// when FillBuffer waits on the stream.
	c, p := shaken(t, 1, &transport.Config{SocketType: "PULL", HeartbeatInterval: time.Hour}, Options{})
	require.True(t, c.InlineReadable())
	wire := append(rawFrame(flagMore, []byte("head")), rawFrame(0, []byte("the body of the message"))...)
	cut := len(rawFrame(flagMore, []byte("head"))) + 5
	p.send(wire[:cut])
	fillUntil(t, c, cut)
	msgs, err := c.ReadBuffered(nil, 1)
	require.NoError(t, err)
	assert.Empty(t, msgs, "half a message is not a message")
	assert.True(t, c.ReadPending())

	// Interrupt a FillBuffer that waits for the rest.
	assert.False(t, interruptWaitingFill(t, c), "an interrupted read reads nothing")
	more, err := c.FillBuffer()
	require.NoError(t, err)
	assert.False(t, more, "interrupted until ResumeRead")
	c.ResumeRead()
	require.NoError(t, c.failure(), "an interrupt does not fail the connection")

	p.send(wire[cut:])
	fillUntil(t, c, len(wire))
	msgs, err = c.ReadBuffered(msgs, 1)
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	assert.Equal(t, [][]byte{[]byte("head"), []byte("the body of the message")}, msgs[0].Frames)

	// The reader goroutine carries on from the same buffer: half read
	// inline, the rest through ReadMsg.
	p.send(rawFrame(0, []byte("next")), rawFrame(0, []byte("after"))[:3])
	fillUntil(t, c, len(rawFrame(0, []byte("next")))+3)
	msgs, err = c.ReadBuffered(msgs[:0], 2)
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	assert.Equal(t, "next", string(msgs[0].Frames[0]))
	p.send(rawFrame(0, []byte("after"))[3:])
	m, err := c.ReadMsg()
	require.NoError(t, err)
	assert.Equal(t, "after", string(m.Frames[0]))
}

// ReadBuffered handles whole commands on their own, a PING above all: a
// connection read inline answers its peer's heartbeats.
func TestReadBufferedAnswersPing(t *testing.T) {
	c, p := shaken(t, 1, nil, Options{})
	ping := appendCommand(nil, cmdPing, []byte{0, 0}, []byte("ctx"))
	p.send(ping)
	fillUntil(t, c, len(ping))
	msgs, err := c.ReadBuffered(nil, 1)
	require.NoError(t, err)
	assert.Empty(t, msgs)
	assert.False(t, c.ReadPending(), "the PING was taken")
	name, data := p.readCommand()
	assert.Equal(t, cmdPong, name)
	assert.Equal(t, "ctx", string(data))

	// Commands before a message, and a message, in one buffer.
	p.send(ping, rawFrame(0, []byte("msg")))
	fillUntil(t, c, len(ping)+len(rawFrame(0, []byte("msg"))))
	msgs, err = c.ReadBuffered(nil, 4)
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	assert.Equal(t, "msg", string(msgs[0].Frames[0]))
	name, _ = p.readCommand()
	assert.Equal(t, cmdPong, name)
}

// A message bigger than the read buffer cannot be read inline: FillBuffer
// says so once the buffer is full, and ReadMsg reads it whole from there.
func TestFillBufferFullLeavesLargeMessagesToReadMsg(t *testing.T) {
	c, p := shaken(t, 1, nil, Options{ReadBufferSize: minBufferSize})
	body := bytes.Repeat([]byte("x"), 3*minBufferSize)
	go p.send(rawFrame(0, body))
	for {
		more, err := c.FillBuffer()
		require.NoError(t, err)
		msgs, err := c.ReadBuffered(nil, 1)
		require.NoError(t, err)
		require.Empty(t, msgs)
		if !more {
			break
		}
	}
	m, err := c.ReadMsg()
	require.NoError(t, err)
	assert.Equal(t, body, m.Frames[0])
}

// A failed stream fails the connection as ReadMsg does.
func TestFillBufferReportsHangUp(t *testing.T) {
	c, p := shaken(t, 1, nil, Options{})
	require.NoError(t, p.c.Close())
	_, err := c.FillBuffer()
	require.Error(t, err)
	_, err = c.ReadMsg()
	require.Error(t, err, "the failure is final")
	_, err = c.ReadBuffered(nil, 1)
	require.Error(t, err)
}

// Connections whose frames cannot be told apart in the buffer are never
// read inline.
func TestInlineReadableNeedsPlainFrames(t *testing.T) {
	c, _ := newRawPeer(t, Options{})
	assert.False(t, c.InlineReadable(), "not before the handshake")
	c, _ = shaken(t, 1, nil, Options{})
	assert.True(t, c.InlineReadable())
	c.codec = fakeCodec{}
	assert.False(t, c.InlineReadable(), "a codec's parts are decoded one by one")
}

// fakeCodec stands for any codec: InlineReadable only looks at whether
// there is one.
type fakeCodec struct{ PartCodec }
