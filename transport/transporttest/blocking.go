package transporttest

import (
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

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

// testListenerCloseFailsPendingDial: a connection dialled but never
// accepted fails its handshake when the Listener closes, rather than
// hanging until a timeout.
func testListenerCloseFailsPendingDial(e *env) {
	l := e.listen()
	c, err := e.tr.Dial(e.ctx, e.parse(l.Endpoint()))
	require.NoError(e.t, err)
	e.track(c)
	require.NoError(e.t, l.Close())
	done := make(chan error, 1)
	e.goFn(func() {
		_, err := c.Handshake(e.ctx, &transport.Config{SocketType: "PAIR"})
		done <- err
	})
	assert.Error(e.t, await(e, done, "Handshake of a connection its Listener dropped"))
}

// testListenerCloseKeepsConns: closing a Listener leaves the connections
// it accepted working.
func testListenerCloseKeepsConns(e *env) {
	l := e.listen()
	c, s := e.dialAccept(l)
	ci, si := e.handshakes(c, &transport.Config{SocketType: "PAIR"}, s, &transport.Config{SocketType: "PAIR"})
	require.NoError(e.t, ci.err)
	require.NoError(e.t, si.err)
	require.NoError(e.t, l.Close())
	want := msg("still", "here")
	got := e.transfer(c, s, []transport.Msg{want.Clone()})
	e.requireSame(want, got[0], "client to server after Listener.Close")
	got = e.transfer(s, c, []transport.Msg{want.Clone()})
	e.requireSame(want, got[0], "server to client after Listener.Close")
}
