package socket_test

import (
	"testing"
	"time"

	"github.com/brookmq/brook/socket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOptionValidation(t *testing.T) {
	bad := map[string]socket.Option{
		"negative send hwm":  socket.WithSendHWM(-1),
		"negative recv hwm":  socket.WithRecvHWM(-1),
		"zero reconnect":     socket.WithReconnectInterval(0),
		"negative backoff":   socket.WithReconnectIntervalMax(-time.Second),
		"negative handshake": socket.WithHandshakeTimeout(-1),
		"zero max size":      socket.WithMaxMsgSize(0),
		"negative heartbeat": socket.WithHeartbeat(-1, 0, 0),
		"huge ttl":           socket.WithHeartbeat(time.Second, 0, 2*time.Hour),
		"empty routing id":   socket.WithRoutingID(nil),
		"zero-led id":        socket.WithRoutingID([]byte{0, 1}),
		"long routing id":    socket.WithRoutingID(make([]byte, 256)),
		"nil logger":         socket.WithLogger(nil),
		"nil transport":      socket.WithTransport(nil),
		"property name":      socket.WithProperty("Foo", nil),
		"monitor buffer":     socket.WithMonitorBuffer(0),
	}
	for name, opt := range bad {
		t.Run(name, func(t *testing.T) {
			_, err := socket.New(socket.Push, opt)
			require.ErrorIs(t, err, socket.ErrBadOption)
		})
	}
	_, err := socket.New(socket.Type(42))
	require.ErrorIs(t, err, socket.ErrBadOption)
}

func TestTypeString(t *testing.T) {
	want := []string{"PAIR", "PUB", "SUB", "REQ", "REP", "DEALER", "ROUTER", "PULL", "PUSH", "XPUB", "XSUB"}
	for i, w := range want {
		assert.Equal(t, w, socket.Type(i).String())
	}
	assert.Equal(t, "Type(11)", socket.Type(11).String())
}

func TestBadEndpoints(t *testing.T) {
	s := newSocket(t, socket.Pull)
	for _, ep := range []string{"", "tcp", "tcp://", "tcp://127.0.0.1", "tcp://127.0.0.1:x", "tcp://127.0.0.1:70000", "ipc://", "inproc://"} {
		assert.ErrorIs(t, s.Bind(ep), socket.ErrBadEndpoint, ep)
		assert.ErrorIs(t, s.Connect(ep), socket.ErrBadEndpoint, ep)
	}
	assert.ErrorIs(t, s.Bind("udp://127.0.0.1:5555"), socket.ErrUnknownScheme)
	assert.ErrorIs(t, s.Connect("quic://127.0.0.1:5555"), socket.ErrUnknownScheme, "quic needs WithTransport")
	assert.ErrorIs(t, s.Unbind("inproc://nothing"), socket.ErrNotBound)
	assert.ErrorIs(t, s.Disconnect("inproc://nothing"), socket.ErrNotConnected)
}
