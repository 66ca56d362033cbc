package quic

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/brookmq/brook/transport"
)

func TestTransportCloseClosesEverything(t *testing.T) {
	st, ct := testTransports(t)
	l := listen(t, st)
	cli, srv := dialPair(t, ct, l, &transport.Config{SocketType: "PAIR"}, &transport.Config{SocketType: "PAIR"})
	require.NoError(t, st.Close())
	_, err := l.Accept(testCtx(t))
	assert.ErrorIs(t, err, transport.ErrClosed)
	_, err = srv.ReadMsg()
	assert.ErrorIs(t, err, transport.ErrClosed)
	_, err = cli.ReadMsg() // the listener side went away
	assert.Error(t, err)
	_, err = st.Listen(ep(t, "quic://127.0.0.1:0"))
	assert.ErrorIs(t, err, transport.ErrClosed)
	require.NoError(t, ct.Close())
	_, err = ct.Dial(testCtx(t), ep(t, l.Endpoint()))
	assert.ErrorIs(t, err, transport.ErrClosed)
	// Both transports closed: no goroutine of theirs or quic-go's is left.
	goleak.VerifyNone(t)
}

func TestListenerCloseKeepsSocketForConns(t *testing.T) {
	st, ct := testTransports(t)
	l := listen(t, st)
	cli, srv := dialPair(t, ct, l, &transport.Config{SocketType: "PUSH"}, &transport.Config{SocketType: "PULL"})
	require.NoError(t, l.Close())
	require.NoError(t, cli.WriteMsg(transport.NewMsg([]byte("still here"))))
	require.NoError(t, cli.Flush())
	m, err := srv.ReadMsg()
	require.NoError(t, err)
	assert.Equal(t, "still here", string(m.Frames[0]))
}

func TestHeartbeatConfigDrivesLiveness(t *testing.T) {
	c := &Conn{opts: &options{livenessInterval: time.Second, livenessTimeout: 5 * time.Second}}
	i, to := c.livenessTimers(&transport.Config{})
	assert.Equal(t, []time.Duration{time.Second, 5 * time.Second}, []time.Duration{i, to})
	i, to = c.livenessTimers(&transport.Config{HeartbeatInterval: 100 * time.Millisecond})
	assert.Equal(t, []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}, []time.Duration{i, to})
	i, to = c.livenessTimers(&transport.Config{HeartbeatInterval: 100 * time.Millisecond, HeartbeatTimeout: time.Second})
	assert.Equal(t, []time.Duration{100 * time.Millisecond, 1100 * time.Millisecond}, []time.Duration{i, to})
}

func TestOptionsValidated(t *testing.T) {
	for name, opt := range map[string]Option{
		"setup 0":          WithSetupTimeout(0),
		"idle 0":           WithIdleTimeout(0),
		"keep-alive < 0":   WithKeepAlive(-1),
		"window too small": WithReceiveWindow(100),
		"liveness 0":       WithLiveness(0, time.Second),
		"timeout < ivl":    WithLiveness(time.Second, time.Millisecond),
	} {
		o := defaultOptions()
		opt(&o)
		assert.ErrorIs(t, o.err, ErrConfig, name)
	}
	o := defaultOptions()
	for _, opt := range []Option{WithSetupTimeout(time.Second), WithIdleTimeout(time.Second), WithKeepAlive(0),
		WithReceiveWindow(1 << 16), WithLiveness(time.Second, time.Second), WithServerName("x"), WithLogger(nil)} {
		opt(&o)
	}
	assert.NoError(t, o.err)
}

func TestCloseCodeErrors(t *testing.T) {
	for _, tc := range []struct {
		e    *CloseError
		want error
	}{
		{&CloseError{Code: CodeInvalidSetup}, transport.ErrProtocol},
		{&CloseError{Code: CodeInvalidLiveness}, transport.ErrProtocol},
		{&CloseError{Code: CodeUnexpectedStream}, transport.ErrProtocol},
		{&CloseError{Code: 77}, transport.ErrProtocol},
		{&CloseError{Code: CodeLivenessTimeout}, transport.ErrPeerTimeout},
		{&CloseError{Code: CodeInvalidSetup, setupTimeout: true}, transport.ErrHandshakeTimeout},
	} {
		assert.ErrorIs(t, tc.e, tc.want, tc.e.Error())
		assert.NotErrorIs(t, tc.e, transport.ErrClosed)
	}
	assert.NotErrorIs(t, &CloseError{Code: CodeAbort}, transport.ErrProtocol)
	assert.Contains(t, (&CloseError{Code: CodeLivenessTimeout, Remote: true, Reason: "r"}).Error(), "peer closed the connection: 3 (liveness timeout): r")
}

// TestDialedConnsShareSocket: the connections a Transport dials share one
// UDP socket, each still its own connection; the socket stays while any
// of them runs and goes with the last, and a later Dial opens a new one.
func TestDialedConnsShareSocket(t *testing.T) {
	st, ct := testTransports(t)
	l := listen(t, st)
	push, pull := &transport.Config{SocketType: "PUSH"}, &transport.Config{SocketType: "PULL"}
	c1, s1 := dialPair(t, ct, l, push, pull)
	c2, s2 := dialPair(t, ct, l, push, pull)
	assert.Equal(t, c1.LocalAddr(), c2.LocalAddr(), "one UDP socket for both")
	for i, p := range [][2]*Conn{{c1, s1}, {c2, s2}} {
		require.NoError(t, p[0].WriteMsg(transport.NewMsg([]byte{byte(i)})))
		require.NoError(t, p[0].Flush())
		m, err := p[1].ReadMsg()
		require.NoError(t, err)
		assert.Equal(t, []byte{byte(i)}, m.Frames[0], "each connection carries its own messages")
	}
	require.NoError(t, c1.Close())
	require.NoError(t, c2.WriteMsg(transport.NewMsg([]byte("still"))))
	require.NoError(t, c2.Flush())
	m, err := s2.ReadMsg()
	require.NoError(t, err)
	assert.Equal(t, "still", string(m.Frames[0]), "closing one leaves the other running")
	require.NoError(t, c2.Close())
	ct.mu.Lock()
	closed := ct.dialSock.refs == 0
	ct.mu.Unlock()
	assert.True(t, closed, "the socket closed with its last connection")
	c3, s3 := dialPair(t, ct, l, push, pull)
	require.NoError(t, c3.WriteMsg(transport.NewMsg([]byte("new"))))
	require.NoError(t, c3.Flush())
	m, err = s3.ReadMsg()
	require.NoError(t, err)
	assert.Equal(t, "new", string(m.Frames[0]))
}
