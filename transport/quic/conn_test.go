package quic

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

func TestMessagesBothWays(t *testing.T) {
	st, ct := testTransports(t)
	l := listen(t, st)
	cli, srv := dialPair(t, ct, l, &transport.Config{SocketType: "DEALER", Identity: []byte("d1")}, &transport.Config{SocketType: "ROUTER"})
	for i := range 100 {
		require.NoError(t, cli.WriteMsg(transport.NewMsg([]byte("hello"), []byte{byte(i)})))
	}
	require.NoError(t, cli.Flush())
	for i := range 100 {
		m, err := srv.ReadMsg()
		require.NoError(t, err)
		assert.Equal(t, [][]byte{[]byte("hello"), {byte(i)}}, m.Frames)
	}
	require.NoError(t, srv.WriteMsg(transport.NewMsg([]byte("back"))))
	require.NoError(t, srv.Flush())
	m, err := cli.ReadMsg()
	require.NoError(t, err)
	assert.Equal(t, "back", string(m.Frames[0]))
}

// batchReader is the socket layer's batched read (socket/readloop.go): a
// Conn that has it hands the messages that arrived together to the
// pattern at once.
type batchReader interface {
	ReadMsgs(dst []transport.Msg, max int) ([]transport.Msg, error)
}

var _ batchReader = (*Conn)(nil)

// TestReadMsgs: messages flushed at once come back in order, several per
// call and never more than asked for; after the peer ends the connection
// ReadMsgs reports why, as ReadMsg does.
func TestReadMsgs(t *testing.T) {
	cli, srv := pair(t)
	const n = 100
	for i := range n {
		require.NoError(t, cli.WriteMsg(transport.NewMsg([]byte("m"), []byte{byte(i)})))
	}
	require.NoError(t, cli.Flush())
	var got []transport.Msg
	calls := 0
	for len(got) < n {
		before := len(got)
		var err error
		got, err = srv.ReadMsgs(got, 16)
		require.NoError(t, err)
		calls++
		require.NotEqual(t, before, len(got), "a call returned nothing")
		require.LessOrEqual(t, len(got)-before, 16)
	}
	require.Len(t, got, n)
	for i, m := range got {
		assert.Equal(t, [][]byte{[]byte("m"), {byte(i)}}, m.Frames)
	}
	// The hundred messages (a few hundred bytes) are one write, one
	// STREAM frame: they arrive together.
	assert.Less(t, calls, n, "no batching")

	require.NoError(t, cli.Close())
	got, err := srv.ReadMsgs(got[:0], 16)
	assert.Empty(t, got)
	var ce *CloseError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, CodeAbort, ce.Code)
	assert.True(t, ce.Remote)
}

// tryFlusher is the socket layer's inline write (socket/inline.go): a
// Conn that has it lets a sending goroutine write a message itself when
// the connection's writer is idle.
type tryFlusher interface {
	TryFlush() (bool, error)
}

var _ tryFlusher = (*Conn)(nil)

// TestTryFlush: TryFlush sends what is buffered at once while the peer's
// flow-control window has room and it fits in a packet; more than that,
// or once the window is full, it sends nothing and reports false, and a
// Flush then waits and delivers it all, in order, as the reader makes
// room.
func TestTryFlush(t *testing.T) {
	const window = minReceiveWindow
	cli, srv := pair(t, WithReceiveWindow(window))
	require.NoError(t, cli.WriteMsg(transport.NewMsg([]byte("first"))))
	done, err := cli.TryFlush()
	require.NoError(t, err)
	require.True(t, done, "an empty window refused a 7-byte message")
	m, err := srv.ReadMsg()
	require.NoError(t, err)
	assert.Equal(t, "first", string(m.Frames[0]))

	// A write larger than one packet is left to Flush.
	big := make([]byte, 2*maxTryWrite)
	big[0] = 'b'
	require.NoError(t, cli.WriteMsg(transport.NewMsg(big)))
	done, err = cli.TryFlush()
	require.NoError(t, err)
	require.False(t, done, "TryFlush took %d bytes at once", len(big))
	require.NoError(t, cli.Flush())
	m, err = srv.ReadMsg()
	require.NoError(t, err)
	assert.Equal(t, big, m.Frames[0])

	// Nobody reads now: the window fills, and TryFlush stops taking.
	payload := make([]byte, 1000)
	sent := 0
	for ; sent < 2*window/len(payload); sent++ {
		payload[0] = byte(sent)
		require.NoError(t, cli.WriteMsg(transport.NewMsg(append([]byte(nil), payload...))))
		done, err := cli.TryFlush()
		require.NoError(t, err)
		if !done {
			break
		}
	}
	require.Less(t, sent, 2*window/len(payload), "TryFlush took twice the peer's window")
	flushed := make(chan error, 1)
	go func() { flushed <- cli.Flush() }()
	for i := range sent + 1 {
		m, err := srv.ReadMsg()
		require.NoError(t, err, "message %d", i)
		assert.Equal(t, byte(i), m.Frames[0][0], "message %d", i)
	}
	require.NoError(t, <-flushed)
}

// TestGracefulClose: a connector that half-closes after its messages
// (more than the flow-control window) has them all read and the reader
// then sees the end of the stream; once the listener has ended its side
// too, the connector's Close ends the connection with code 0. (The zmtp
// engine stops writing once it has read the end of the stream, so the
// listener half-closes before reading it.)
func TestGracefulClose(t *testing.T) {
	cli, srv := pair(t)
	const n = 2000
	payload := make([]byte, 1000)
	halfClosed := make(chan error, 1)
	go func() {
		for range n {
			if err := cli.WriteMsg(transport.NewMsg(payload)); err != nil {
				halfClosed <- err
				return
			}
		}
		halfClosed <- cli.CloseWrite()
	}()
	for i := range n {
		_, err := srv.ReadMsg()
		require.NoError(t, err, "message %d", i)
	}
	require.NoError(t, <-halfClosed)
	assert.ErrorIs(t, cli.WriteMsg(transport.NewMsg(payload)), transport.ErrClosed, "a write after CloseWrite")
	require.NoError(t, srv.CloseWrite())
	_, err := srv.ReadMsg()
	assert.ErrorIs(t, err, io.EOF)

	_, err = cli.ReadMsg()
	assert.ErrorIs(t, err, io.EOF)
	require.NoError(t, cli.Close())
	ce := closeErrorOf(t, cli)
	assert.Equal(t, CodeCompleted, ce.Code)
	assert.False(t, ce.Remote)
	ce = closeErrorOf(t, srv)
	assert.Equal(t, CodeCompleted, ce.Code)
	assert.True(t, ce.Remote)
}

// TestCloseAborts: Close does not wait for anybody. Unless both sides
// ended the data stream, it ends the connection with code 5 at once, and
// the peer's reader sees why; a half-close is not enough while the peer
// has not ended its side.
func TestCloseAborts(t *testing.T) {
	for name, halfClose := range map[string]bool{"without CloseWrite": false, "peer has not ended its side": true} {
		t.Run(name, func(t *testing.T) {
			cli, srv := pair(t)
			require.NoError(t, cli.WriteMsg(transport.NewMsg([]byte("sent"))))
			if halfClose {
				require.NoError(t, cli.CloseWrite())
			} else {
				require.NoError(t, cli.Flush())
			}
			m, err := srv.ReadMsg()
			require.NoError(t, err)
			assert.Equal(t, "sent", string(m.Frames[0]))
			require.NoError(t, cli.Close())
			ce := closeErrorOf(t, cli)
			assert.Equal(t, CodeAbort, ce.Code)
			assert.False(t, ce.Remote)

			_, err = srv.ReadMsg()
			if halfClose && errors.Is(err, io.EOF) {
				// The end of the stream came before the close: the
				// close code is on the connection.
				ce = closeErrorOf(t, srv)
			} else {
				require.ErrorAs(t, err, &ce)
				assert.NotErrorIs(t, err, transport.ErrClosed)
			}
			assert.Equal(t, CodeAbort, ce.Code)
			assert.True(t, ce.Remote)
		})
	}
}

// TestCloseKeepsThePeersCode: closing a connection the peer already ended
// sends nothing more; the peer's code stays the reason.
func TestCloseKeepsThePeersCode(t *testing.T) {
	cli, srv := pair(t)
	require.NoError(t, srv.Close())
	_, err := cli.ReadMsg()
	var ce *CloseError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, CodeAbort, ce.Code)
	assert.True(t, ce.Remote)
	require.NoError(t, cli.Close())
	ce = closeErrorOf(t, cli)
	assert.True(t, ce.Remote, "the connector sent a code of its own after the listener's")
}

// closeErrorOf waits for c's QUIC connection to end and returns its close
// code as c sees it.
func closeErrorOf(t *testing.T, c *Conn) *CloseError {
	t.Helper()
	ce, ok := connError(cliCause(c)).(*CloseError)
	require.True(t, ok, "connection ended by %v", cliCause(c))
	return ce
}

func TestUseBeforeHandshake(t *testing.T) {
	st, ct := testTransports(t)
	l := listen(t, st)
	c, err := ct.Dial(testCtx(t), ep(t, l.Endpoint()))
	require.NoError(t, err)
	_, err = c.ReadMsg()
	assert.Error(t, err)
	assert.Error(t, c.WriteMsg(transport.NewMsg([]byte("x"))))
	assert.Error(t, c.Flush())
	done, err := c.(*Conn).TryFlush()
	assert.Error(t, err)
	assert.False(t, done)
	assert.Error(t, c.WriteSubscription([]byte("x"), true))
	require.NoError(t, c.Close())
	_, err = c.ReadMsg()
	assert.ErrorIs(t, err, transport.ErrClosed)
	_, err = c.Handshake(testCtx(t), &transport.Config{SocketType: "PUSH"})
	assert.Error(t, err)
	assert.True(t, strings.HasPrefix(c.LocalAddr(), "quic://"), c.LocalAddr())
	assert.Equal(t, l.Endpoint(), c.RemoteAddr())
}
