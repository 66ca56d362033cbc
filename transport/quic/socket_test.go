package quic

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/socket"
)

// socketPair returns a bound and a connected brook socket over quic://,
// handshaken, with their Transports (closed after the sockets).
func socketPair(tb testing.TB, bindType, connType socket.Type, opts ...socket.Option) (bound, conn *socket.Socket, bt, ct *Transport) {
	tb.Helper()
	st, ctr := testTransports(tb)
	var err error
	bound, err = socket.New(bindType, append([]socket.Option{socket.WithTransport(st)}, opts...)...)
	require.NoError(tb, err)
	conn, err = socket.New(connType, append([]socket.Option{socket.WithTransport(ctr)}, opts...)...)
	require.NoError(tb, err)
	// Registered after testTransports' cleanup, so it runs before it.
	tb.Cleanup(func() {
		_ = conn.Close()
		_ = bound.Close()
	})
	require.NoError(tb, bound.Bind("quic://127.0.0.1:0"))
	ev, stop := conn.Monitor()
	defer stop()
	require.NoError(tb, conn.Connect(bound.LastEndpoint()))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		select {
		case e := <-ev:
			if e.Type == socket.EventHandshakeSucceeded {
				return bound, conn, st, ctr
			}
		case <-ctx.Done():
			tb.Fatal("no handshake")
		}
	}
}

// onlyConn returns the one connection t has.
func onlyConn(tb testing.TB, t *Transport) *Conn {
	tb.Helper()
	t.mu.Lock()
	defer t.mu.Unlock()
	require.Len(tb, t.conns, 1)
	for c := range t.conns {
		return c
	}
	return nil
}

// TestSocketCloseDeliversWithinLinger: QUIC's Close no longer lingers,
// the socket does: a PUSH closing with 5 MB queued (five receive windows)
// returns only once its PULL has read every message, so they are all in
// the PULL socket when Close returns, and nothing is counted as dropped.
func TestSocketCloseDeliversWithinLinger(t *testing.T) {
	const n = 5000
	// The PULL has room for one more than is sent: with its queue exactly
	// full it reads no further, never sees the PUSH's end, and Close
	// returned only when its linger ran out, which did not test the
	// wait for the peer (a 1 ms linger fails it now).
	pull, push, _, _ := socketPair(t, socket.Pull, socket.Push,
		socket.WithSendHWM(n), socket.WithRecvHWM(n+1), socket.WithLinger(20*time.Second))
	ctx := testCtx(t)
	payload := make([]byte, 1000)
	for i := range n {
		payload[0], payload[1] = byte(i), byte(i>>8)
		require.NoError(t, push.Send(ctx, socket.NewMsg(append([]byte(nil), payload...))))
	}
	require.NoError(t, push.Close())
	assert.Empty(t, push.Stats().Dropped, "dropped on close")

	ended, cancel := context.WithCancel(ctx)
	cancel()
	for i := range n {
		m, err := pull.Recv(ended)
		require.NoError(t, err, "message %d was not in the PULL when Close returned", i)
		require.Equal(t, []byte{byte(i), byte(i >> 8)}, m.Frames[0][:2])
	}
}

// TestSocketLingerEndsWithCode5: a PULL that stops reading holds its
// PUSH's Close for the linger time only; the connection then ends with
// code 5, which the PULL's side sees, and what was not delivered is
// counted as dropped.
func TestSocketLingerEndsWithCode5(t *testing.T) {
	for name, linger := range map[string]time.Duration{"linger expires": 200 * time.Millisecond, "linger 0": 0} {
		t.Run(name, func(t *testing.T) {
			_, push, st, _ := socketPair(t, socket.Pull, socket.Push,
				socket.WithSendHWM(100), socket.WithRecvHWM(1), socket.WithLinger(linger))
			srv := onlyConn(t, st)
			ctx := testCtx(t)
			big := make([]byte, 256<<10)
			for range 64 { // 16 MiB: more than the windows and the PULL's queue
				sctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
				err := push.Send(sctx, socket.NewMsg(big))
				cancel()
				if err != nil {
					require.ErrorIs(t, err, context.DeadlineExceeded)
					break
				}
			}
			require.NoError(t, push.Close())
			ce := closeErrorOf(t, srv)
			assert.Equal(t, CodeAbort, ce.Code)
			assert.True(t, ce.Remote)
			assert.Positive(t, push.Stats().Dropped[socket.DropPeerGone], "undelivered messages are counted")
		})
	}
}
