package transporttest

import (
	"context"
	"fmt"
	"net"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

// testDrainAfterPeerClose: messages written and flushed before Close all
// reach the peer, which then sees the connection end. The peer reads only
// after the Close, so n stays below what any transport buffers (inproc
// holds 64 messages per direction).
func testDrainAfterPeerClose(e *env) {
	c, s := e.pair()
	const n = 50
	msgs := make([]transport.Msg, n)
	for i := range msgs {
		msgs[i] = seqMsg(uint64(i))
	}
	require.NoError(e.t, await(e, e.writeAll(c, msgs), "writer"))
	require.NoError(e.t, c.Close())
	r := await(e, e.readN(s, n), "reader")
	require.NoError(e.t, r.err, "the peer lost messages written before Close: read %d of %d", len(r.v), n)
	for i, m := range r.v {
		seq, err := seqOf(m)
		require.NoError(e.t, err)
		require.Equal(e.t, uint64(i), seq)
	}
	_, err := e.readMsg(s, "ReadMsg after the drained messages")
	assert.Error(e.t, err)
}

// testCloseUnblocksRead: Close unblocks a ReadMsg waiting on the same
// Conn with ErrClosed, and the peer's ReadMsg ends too.
func testCloseUnblocksRead(e *env) {
	c, s := e.pair()
	type res = result[transport.Msg]
	local, peer := make(chan res, 1), make(chan res, 1)
	started := make(chan struct{}, 2)
	for _, r := range []struct {
		conn transport.Conn
		out  chan res
	}{{c, local}, {s, peer}} {
		e.goFn(func() {
			started <- struct{}{}
			m, err := r.conn.ReadMsg()
			r.out <- res{m, err}
		})
	}
	await(e, started, "reader goroutine")
	await(e, started, "reader goroutine")
	require.NoError(e.t, c.Close())

	got := await(e, local, "ReadMsg on the closed Conn")
	require.Error(e.t, got.err, "ReadMsg returned %s after Close", describe(got.v))
	assert.ErrorIs(e.t, got.err, transport.ErrClosed)
	assert.ErrorIs(e.t, got.err, net.ErrClosed)

	got = await(e, peer, "the peer's ReadMsg after Close")
	assert.Error(e.t, got.err, "the peer read %s after Close", describe(got.v))
}

// testCloseUnblocksAccept: closing a Listener unblocks Accept with
// ErrClosed, and later Accepts fail the same way.
func testCloseUnblocksAccept(e *env) {
	l := e.listen()
	done := make(chan error, 1)
	started := make(chan struct{})
	e.goFn(func() {
		close(started)
		_, err := l.Accept(e.ctx)
		done <- err
	})
	await(e, started, "Accept goroutine")
	require.NoError(e.t, l.Close())
	err := await(e, done, "Accept after Close")
	require.Error(e.t, err)
	assert.ErrorIs(e.t, err, transport.ErrClosed)
	assert.ErrorIs(e.t, err, net.ErrClosed)

	_, err = l.Accept(e.ctx)
	assert.ErrorIs(e.t, err, transport.ErrClosed, "Accept on a closed Listener")
	assert.NotPanics(e.t, func() { l.Close() }, "second Close")
}

// testAcceptHonoursContext: Accept returns ctx's error when ctx ends.
func testAcceptHonoursContext(e *env) {
	l := e.listen()
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	started := make(chan struct{})
	e.goFn(func() {
		close(started)
		_, err := l.Accept(ctx)
		done <- err
	})
	await(e, started, "Accept goroutine")
	cancel()
	err := await(e, done, "Accept after cancel")
	assert.ErrorIs(e.t, err, context.Canceled)
}

// testUseAfterClose: writes and reads on a closed Conn fail with
// ErrClosed; Close twice is harmless.
func testUseAfterClose(e *env) {
	c, s := e.pair()
	require.NoError(e.t, c.Close())
	assert.NotPanics(e.t, func() { c.Close() }, "second Close")
	err := c.WriteMsg(msg("late"))
	if err == nil {
		err = c.Flush()
	}
	assert.ErrorIs(e.t, err, transport.ErrClosed, "WriteMsg+Flush on a closed Conn")
	_, err = c.ReadMsg()
	assert.ErrorIs(e.t, err, transport.ErrClosed, "ReadMsg on a closed Conn")
	_, err = e.readMsg(s, "the peer's ReadMsg")
	assert.Error(e.t, err, "the peer of a closed Conn read a message")
}

// writeUntilError writes on c until a write or flush fails, reporting the
// first success on progress and the final error on the returned channel.
// The first message is 16 KiB, which fits in any transport's buffers; the
// rest are 1 MiB each and the peer never reads, so the writer blocks in
// the transport almost at once, usually before the test closes the
// connection.
func (e *env) writeUntilError(c transport.Conn, progress chan<- struct{}) <-chan error {
	done := make(chan error, 1)
	small, big := randomBytes(7, 16<<10), randomBytes(8, 1<<20)
	e.goFn(func() {
		for i := 0; ; i++ {
			frame := big
			if i == 0 {
				frame = small
			}
			err := c.WriteMsg(transport.Msg{Frames: [][]byte{frame}})
			if err == nil {
				err = c.Flush()
			}
			if err != nil {
				done <- err
				return
			}
			if i == 0 {
				close(progress)
			}
		}
	})
	return done
}

// testCloseUnblocksWrite: a writer blocked because the peer does not read
// returns with ErrClosed when its own Conn is closed.
func testCloseUnblocksWrite(e *env) {
	c, _ := e.pair()
	progress := make(chan struct{})
	done := e.writeUntilError(c, progress)
	await(e, progress, "the first write")
	require.NoError(e.t, c.Close())
	err := await(e, done, "the blocked writer after Close")
	assert.ErrorIs(e.t, err, transport.ErrClosed)
}

// testPeerCloseUnblocksWrite: a writer blocked because the peer does not
// read returns with an error once the peer closes.
func testPeerCloseUnblocksWrite(e *env) {
	c, s := e.pair()
	progress := make(chan struct{})
	done := e.writeUntilError(c, progress)
	await(e, progress, "the first write")
	require.NoError(e.t, s.Close())
	err := await(e, done, "the blocked writer after the peer closed")
	assert.Error(e.t, err)
}

// testCloseUnblocksHandshake: closing a Conn ends a handshake waiting for
// a silent peer.
func testCloseUnblocksHandshake(e *env) {
	c, _ := e.dialAccept(e.listen())
	done := make(chan error, 1)
	started := make(chan struct{})
	e.goFn(func() {
		close(started)
		_, err := c.Handshake(e.ctx, &transport.Config{SocketType: "PAIR"})
		done <- err
	})
	await(e, started, "handshake goroutine")
	require.NoError(e.t, c.Close())
	assert.Error(e.t, await(e, done, "Handshake after Close"))
}

// testPeerCloseFailsHandshake: a peer that closes instead of shaking hands
// fails our handshake at once, without waiting for a timeout.
func testPeerCloseFailsHandshake(e *env) {
	c, s := e.dialAccept(e.listen())
	done := make(chan error, 1)
	e.goFn(func() {
		_, err := c.Handshake(e.ctx, &transport.Config{SocketType: "PAIR"})
		done <- err
	})
	require.NoError(e.t, s.Close())
	assert.Error(e.t, await(e, done, "Handshake after the peer closed"))
}

// testCloseMidMessage: when the writer's Conn closes in the middle of the
// stream, the reader gets whole messages and then an error, never a
// truncated or partial multipart message.
func testCloseMidMessage(e *env) {
	c, s := e.pair()
	const part = 48 << 10
	mk := func(i int) transport.Msg {
		return transport.Msg{Frames: [][]byte{
			fmt.Appendf(nil, "%d", i), randomBytes(uint64(3*i), part), randomBytes(uint64(3*i+1), part),
		}}
	}
	e.goFn(func() {
		for i := 0; ; i++ {
			if c.WriteMsg(mk(i)) != nil || c.Flush() != nil {
				return
			}
		}
	})
	type outcome struct {
		read int
		bad  string
		err  error
	}
	done := make(chan outcome, 1)
	progress := make(chan struct{})
	e.goFn(func() {
		var out outcome
		defer func() { done <- out }()
		for {
			m, err := s.ReadMsg()
			if err != nil {
				out.err = err
				return
			}
			if want := mk(out.read); !sameMsg(want, m) {
				out.bad = fmt.Sprintf("message %d: want %s, got %s", out.read, describe(want), describe(m))
				return
			}
			out.read++
			if out.read == 3 {
				close(progress)
			}
		}
	})
	await(e, progress, "the first messages")
	require.NoError(e.t, c.Close())
	out := await(e, done, "the reader to stop after the writer closed")
	assert.Empty(e.t, out.bad, "after %d whole messages", out.read)
	assert.Error(e.t, out.err)
}
