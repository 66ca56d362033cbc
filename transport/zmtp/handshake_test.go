package zmtp

import (
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

func TestHandshakeOverPipe(t *testing.T) {
	a, b := pipeConns(t, Options{})
	ra, rb := handshakeBoth(t, a, b,
		&transport.Config{SocketType: "DEALER", AnnounceIdentity: true, Properties: map[string][]byte{"X-Hello": []byte("world")}},
		&transport.Config{SocketType: "router", AnnounceIdentity: true, Identity: []byte("me")})
	require.NoError(t, ra.err)
	require.NoError(t, rb.err)
	assert.Equal(t, "ROUTER", ra.info.SocketType)
	assert.Equal(t, []byte("me"), ra.info.Identity)
	assert.Equal(t, 31, ra.info.Version)
	assert.Equal(t, "DEALER", rb.info.SocketType)
	assert.Equal(t, []byte{}, rb.info.Identity)
	v, ok := rb.info.Property("x-hello")
	require.True(t, ok)
	assert.Equal(t, []byte("world"), v)
}

// handshakeAsync runs c.Handshake on a goroutine.
func handshakeAsync(c *Conn, cfg *transport.Config) <-chan hsResult {
	ch := make(chan hsResult, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		info, err := c.Handshake(ctx, cfg)
		ch <- hsResult{info, err}
	}()
	return ch
}

func TestHandshakeSendsGreetingWithoutWaiting(t *testing.T) {
	c, p := newRawPeer(t, Options{})
	res := handshakeAsync(c, &transport.Config{SocketType: "DEALER", AnnounceIdentity: true})
	// The raw peer has sent nothing yet: the whole greeting and READY
	// must arrive anyway.
	g := p.readN(greetingSize)
	parsed, err := parseGreeting(g)
	require.NoError(t, err)
	assert.Equal(t, 31, parsed.version())
	assert.Equal(t, "NULL", parsed.mechanism)
	assert.False(t, parsed.asServer)
	assert.Equal(t, make([]byte, 31), g[33:], "filler must be zero")
	name, data := p.readCommand()
	require.Equal(t, cmdReady, name)
	// RFC 37's worked example: a DEALER with an empty identity.
	want := appendMetadata(nil, []property{{"Socket-Type", []byte("DEALER")}, {"Identity", nil}})
	assert.Equal(t, want, data)

	p.send(rawGreeting(3, 1, "NULL"), rawReady("ROUTER"))
	r := <-res
	require.NoError(t, r.err)
	assert.Equal(t, "ROUTER", r.info.SocketType)
	assert.Nil(t, r.info.Identity)
}

func TestHandshakeVersions(t *testing.T) {
	tests := []struct {
		name         string
		major, minor byte
		version      int
		legacy       bool
	}{
		{"3.0", 3, 0, 30, true},
		{"3.1", 3, 1, 31, false},
		{"3.7", 3, 7, 37, false},
		{"4.0", 4, 0, 40, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, p := newRawPeer(t, Options{})
			res := handshakeAsync(c, &transport.Config{SocketType: "PULL"})
			p.send(rawGreeting(tt.major, tt.minor, "NULL"), rawReady("PUSH"))
			p.readN(greetingSize)
			p.readCommand()
			r := <-res
			require.NoError(t, r.err)
			assert.Equal(t, tt.version, r.info.Version)
			assert.Equal(t, tt.legacy, c.peer30)
		})
	}
}

func TestHandshakeRejects(t *testing.T) {
	tests := []struct {
		name  string
		input [][]byte
		want  error
	}{
		{"garbage", [][]byte{[]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")}, transport.ErrProtocol},
		{"short garbage", [][]byte{[]byte("hi\n")}, transport.ErrProtocol},
		{"no 0x7f", [][]byte{append([]byte{0xFF}, make([]byte, 63)...)}, transport.ErrProtocol},
		{"zmtp 2", [][]byte{rawGreeting(2, 0, "NULL")}, transport.ErrProtocol},
		{"plain mechanism", [][]byte{rawGreeting(3, 1, "PLAIN")}, ErrMechanismMismatch},
		{"curve mechanism", [][]byte{rawGreeting(3, 1, "CURVE")}, transport.ErrProtocol},
		{"message before ready", [][]byte{rawGreeting(3, 1, "NULL"), rawFrame(0, []byte("hi"))}, transport.ErrProtocol},
		{"hello instead of ready", [][]byte{rawGreeting(3, 1, "NULL"), appendCommand(nil, "HELLO")}, transport.ErrProtocol},
		{"no socket type", [][]byte{rawGreeting(3, 1, "NULL"), appendCommand(nil, cmdReady, appendMetadata(nil, []property{{"Identity", nil}}))}, transport.ErrProtocol},
		{"truncated metadata", [][]byte{rawGreeting(3, 1, "NULL"), appendCommand(nil, cmdReady, []byte{11, 'S', 'o'})}, transport.ErrProtocol},
		{"reserved flags", [][]byte{rawGreeting(3, 1, "NULL"), {0x0C, 0}}, transport.ErrProtocol},
		{"incompatible", [][]byte{rawGreeting(3, 1, "NULL"), rawReady("PUB")}, transport.ErrIncompatible},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, p := newRawPeer(t, Options{})
			res := handshakeAsync(c, &transport.Config{SocketType: "PULL", PeerTypes: []string{"PUSH"}})
			p.send(tt.input...)
			r := <-res
			require.Error(t, r.err)
			assert.ErrorIs(t, r.err, tt.want)
			assert.Contains(t, r.err.Error(), "raw", "the error names the peer")
			_, err := c.ReadMsg()
			assert.Error(t, err, "the connection is unusable after a failed handshake")
		})
	}
}

func TestHandshakeIncompatibleSendsError(t *testing.T) {
	c, p := newRawPeer(t, Options{})
	res := handshakeAsync(c, &transport.Config{SocketType: "PULL", PeerTypes: []string{"PUSH"}})
	p.send(rawGreeting(3, 1, "NULL"), rawReady("PUB"))
	p.readN(greetingSize)
	name, _ := p.readCommand()
	require.Equal(t, cmdReady, name)
	name, data := p.readCommand()
	require.Equal(t, cmdError, name)
	assert.Equal(t, "invalid socket type", parseErrorReason(data))
	r := <-res
	assert.ErrorIs(t, r.err, transport.ErrIncompatible)
}

func TestHandshakeIncompatibleBothBrook(t *testing.T) {
	peers := map[string][]string{"PUSH": {"PULL"}, "PULL": {"PUSH"}, "PUB": {"SUB", "XSUB"}, "REQ": {"REP", "ROUTER"}}
	for _, pair := range [][2]string{{"PUSH", "PUSH"}, {"PUB", "PULL"}, {"REQ", "REQ"}} {
		t.Run(pair[0]+"-"+pair[1], func(t *testing.T) {
			a, b := pipeConns(t, Options{})
			ra, rb := handshakeBoth(t, a, b,
				&transport.Config{SocketType: pair[0], PeerTypes: peers[pair[0]]},
				&transport.Config{SocketType: pair[1], PeerTypes: peers[pair[1]]})
			// Compatibility is symmetric: both sides see it, and
			// neither hangs writing its ERROR to the other.
			assert.ErrorIs(t, ra.err, transport.ErrIncompatible)
			assert.ErrorIs(t, rb.err, transport.ErrIncompatible)
		})
	}
}

func TestHandshakePeerError(t *testing.T) {
	c, p := newRawPeer(t, Options{})
	res := handshakeAsync(c, &transport.Config{SocketType: "PULL"})
	p.send(rawGreeting(3, 1, "NULL"), appendCommand(nil, cmdError, errorData("go away")))
	r := <-res
	var pe *transport.PeerError
	require.ErrorAs(t, r.err, &pe)
	assert.Equal(t, "go away", pe.Reason)
	assert.ErrorIs(t, r.err, transport.ErrProtocol)
}

func TestHandshakeMetadata(t *testing.T) {
	c, p := newRawPeer(t, Options{})
	res := handshakeAsync(c, &transport.Config{
		SocketType:       "dealer",
		AnnounceIdentity: true,
		Identity:         []byte("worker-1"),
		Properties:       map[string][]byte{"X-B": []byte("2"), "X-A": []byte("1")},
	})
	p.send(rawGreeting(3, 1, "NULL"), appendCommand(nil, cmdReady, appendMetadata(nil, []property{
		{"socket-type", []byte("dealer")},
		{"IDENTITY", []byte("pusher")},
		{"X-Custom", []byte("kept")},
		{"Resource", nil},
	})))
	_, props := p.handshake(1, "DEALER")
	assert.Equal(t, map[string][]byte{
		"Socket-Type": []byte("DEALER"), "Identity": []byte("worker-1"), "X-A": []byte("1"), "X-B": []byte("2"),
	}, props)
	r := <-res
	require.NoError(t, r.err)
	assert.Equal(t, "DEALER", r.info.SocketType)
	assert.Equal(t, []byte("pusher"), r.info.Identity)
	v, ok := r.info.Property("x-custom")
	assert.True(t, ok)
	assert.Equal(t, []byte("kept"), v)
	_, ok = r.info.Property("Resource")
	assert.True(t, ok)
}

func TestHandshakeBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  *transport.Config
	}{
		{"nil", nil},
		{"no type", &transport.Config{}},
		{"identity starting with zero", &transport.Config{SocketType: "DEALER", Identity: []byte{0, 1}}},
		{"identity too long", &transport.Config{SocketType: "DEALER", Identity: bytes.Repeat([]byte("x"), 256)}},
		{"reserved property", &transport.Config{SocketType: "PUSH", Properties: map[string][]byte{"socket-type": []byte("PULL")}}},
		{"long property name", &transport.Config{SocketType: "PUSH", Properties: map[string][]byte{strings.Repeat("x", 256): nil}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _ := pipeConns(t, Options{})
			_, err := a.Handshake(context.Background(), tt.cfg)
			require.Error(t, err)
		})
	}
}

// noDeadline hides a stream's SetDeadline, so the handshake timeout has to
// close it instead.
type noDeadline struct{ io.ReadWriteCloser }

func TestHandshakeTimeout(t *testing.T) {
	for _, tt := range []struct {
		name string
		wrap func(net.Conn) io.ReadWriteCloser
	}{
		{"deadline", func(c net.Conn) io.ReadWriteCloser { return c }},
		{"close", func(c net.Conn) io.ReadWriteCloser { return noDeadline{c} }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, b := tcpPair(t)
			c := NewConn(tt.wrap(a), "local", "staller", Options{})
			defer c.Close()
			// The peer sends half a greeting and stalls.
			_, err := b.Write(rawGreeting(3, 1, "NULL")[:20])
			require.NoError(t, err)
			_, err = c.Handshake(context.Background(), &transport.Config{SocketType: "PULL", HandshakeTimeout: 50 * time.Millisecond})
			require.ErrorIs(t, err, transport.ErrHandshakeTimeout)
			assert.Contains(t, err.Error(), "staller")
		})
	}
}

func TestHandshakeHonoursContext(t *testing.T) {
	a, _ := pipeConns(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := a.Handshake(ctx, &transport.Config{SocketType: "PULL"})
		errc <- err
	}()
	cancel()
	err := <-errc
	assert.ErrorIs(t, err, transport.ErrHandshakeTimeout)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestCloseDuringHandshake(t *testing.T) {
	a, _ := pipeConns(t, Options{})
	errc := make(chan error, 1)
	go func() {
		_, err := a.Handshake(context.Background(), &transport.Config{SocketType: "PULL"})
		errc <- err
	}()
	require.NoError(t, a.Close())
	err := <-errc
	assert.ErrorIs(t, err, transport.ErrClosed)
	assert.ErrorIs(t, err, net.ErrClosed)
}

func TestHandshakeTwice(t *testing.T) {
	a, b := pipeConns(t, Options{})
	mustHandshake(t, a, b, nil, nil)
	_, err := a.Handshake(context.Background(), &transport.Config{SocketType: "PAIR"})
	require.Error(t, err)
}

func TestUseBeforeHandshake(t *testing.T) {
	a, _ := pipeConns(t, Options{})
	_, err := a.ReadMsg()
	assert.ErrorIs(t, err, errNotReady)
	assert.ErrorIs(t, a.WriteMsg(transport.NewMsg([]byte("x"))), errNotReady)
	assert.ErrorIs(t, a.WriteSubscription([]byte("x"), true), errNotReady)
}
