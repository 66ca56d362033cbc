package zmtp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

func TestCurveHandshakeAuthenticates(t *testing.T) {
	server, client := newTestKeys(t), newTestKeys(t)
	auth := answer(transport.AuthReply{Status: 200, UserID: "alice", Metadata: map[string][]byte{"X-Team": []byte("blue")}})
	cfgC, cfgS := curveConfigs(t, server, client, auth)
	cfgC.Properties = map[string][]byte{"X-Team": []byte("red"), "user-id": []byte("mallory")}
	cli, srv := tcpConns(t, Options{})
	rc, rs := handshakeBoth(t, cli, srv, cfgC, cfgS)
	require.NoError(t, rc.err)
	require.NoError(t, rs.err)

	assert.Equal(t, "PULL", rc.info.SocketType)
	assert.Empty(t, rc.info.UserID, "a client authenticates nobody")
	assert.Equal(t, "PUSH", rs.info.SocketType)
	assert.Equal(t, "alice", rs.info.UserID)
	v, _ := rs.info.Property("User-Id")
	assert.Equal(t, "alice", string(v), "the authenticated user id overrides what the peer claims")
	v, _ = rs.info.Property("X-Team")
	assert.Equal(t, "blue", string(v), "the authenticator's metadata overrides the peer's")

	reqs := auth.requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, transport.AuthRequest{
		Domain: "test-domain", Address: "127.0.0.1", Identity: []byte("srv-id"),
		Mechanism: "CURVE", Credentials: [][]byte{client.public[:]},
	}, reqs[0])
}

// Messages of every shape cross a CURVE connection both ways: empty and
// multipart, around the short/long frame boundary, larger than the read
// and write buffers, and commands and subscriptions beside them.
func TestCurveTraffic(t *testing.T) {
	cli, srv := curvePair(t, Options{ReadBufferSize: 16 << 10, WriteBufferSize: 16 << 10})
	fill := func(n int, b byte) []byte { return bytes.Repeat([]byte{b}, n) }
	msgs := [][][]byte{
		{[]byte("hello")}, {{}}, {{}, {}, []byte("c")},
		{fill(221, 1)}, {fill(222, 2)}, {fill(223, 3)}, {fill(255, 4)}, {fill(256, 5)},
		{fill(8<<10, 6)}, {fill(16<<10, 7)}, {fill(100<<10, 8), fill(3, 9), fill(1<<20, 10)},
	}
	var cmds []string
	srv.SetCommandHandler(func(name string, data []byte) error {
		cmds = append(cmds, name+"="+string(data))
		return nil
	})
	errc := make(chan error, 1)
	go func() {
		for i, m := range msgs {
			if err := cli.WriteMsg(transport.Msg{Frames: m}); err != nil {
				errc <- err
				return
			}
			if i == 3 {
				if err := cli.WriteCommand("X-ACK", []byte("3")); err != nil {
					errc <- err
					return
				}
				if err := cli.WriteSubscription([]byte("topic"), true); err != nil {
					errc <- err
					return
				}
			}
		}
		errc <- cli.Flush()
	}()
	for i, want := range msgs {
		m, err := srv.ReadMsg()
		require.NoError(t, err, "message %d", i)
		require.Len(t, m.Frames, len(want), "message %d", i)
		for k := range want {
			require.True(t, bytes.Equal(want[k], m.Frames[k]), "message %d frame %d", i, k)
		}
		if i == 3 {
			sub, err := srv.ReadMsg()
			require.NoError(t, err)
			topic, on, ok := transport.ParseSubscription(sub)
			require.True(t, ok)
			assert.True(t, on)
			assert.Equal(t, "topic", string(topic))
		}
	}
	require.NoError(t, <-errc)
	assert.Equal(t, []string{"X-ACK=3"}, cmds)

	// And the other way.
	go func() {
		if err := srv.WriteMsg(transport.Msg{Frames: [][]byte{[]byte("back"), fill(70<<10, 1)}}); err != nil {
			errc <- err
			return
		}
		errc <- srv.Flush()
	}()
	m, err := cli.ReadMsg()
	require.NoError(t, err)
	require.Len(t, m.Frames, 2)
	assert.Equal(t, "back", string(m.Frames[0]))
	assert.Len(t, m.Frames[1], 70<<10)
	require.NoError(t, <-errc)
}

// tap records what is written to a stream.
type tap struct {
	net.Conn
	mu  sync.Mutex
	out bytes.Buffer
}

func (t *tap) Write(p []byte) (int, error) {
	t.mu.Lock()
	t.out.Write(p)
	t.mu.Unlock()
	return t.Conn.Write(p)
}

func (t *tap) written() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return bytes.Clone(t.out.Bytes())
}

// After the greeting nothing travels in clear: the client's properties
// are boxed in INITIATE, its messages in MESSAGE commands.
func TestCurveWireIsEncrypted(t *testing.T) {
	server, client := newTestKeys(t), newTestKeys(t)
	cfgC, cfgS := curveConfigs(t, server, client, nil)
	cfgC.Properties = map[string][]byte{"X-Secret-Prop": []byte("property-in-clear")}
	a, b := tcpPair(t)
	wire := &tap{Conn: a}
	cli := NewConn(wire, "c", "s", Options{})
	srv := NewConn(b, "s", "c", Options{})
	t.Cleanup(func() { _ = cli.Close(); _ = srv.Close() })
	mustHandshake(t, cli, srv, cfgC, cfgS)

	secret := []byte("the payload must not be seen")
	require.NoError(t, cli.WriteMsg(transport.Msg{Frames: [][]byte{secret, bytes.Repeat(secret, 3000)}}))
	require.NoError(t, cli.WriteCommand("X-CMD", secret))
	require.NoError(t, cli.Flush())
	m, err := srv.ReadMsg()
	require.NoError(t, err)
	assert.Equal(t, secret, m.Frames[0])

	out := wire.written()
	assert.False(t, bytes.Contains(out, secret[:12]), "payload in clear on the wire")
	assert.False(t, bytes.Contains(out, []byte("property-in-clear")), "property in clear on the wire")
	assert.False(t, bytes.Contains(out, []byte("X-CMD")), "command name in clear on the wire")
	// After the greeting: the HELLO and INITIATE commands, then only
	// MESSAGEs, in frames without flags as libzmq sends them.
	rest := out[greetingSize:]
	var names []string
	for len(rest) > 0 {
		flags, size, n := frameHeader(rest)
		name, _, err := parseCommand(rest[n : n+size])
		require.NoError(t, err)
		if name == "MESSAGE" {
			assert.Zero(t, flags&^flagLong, "MESSAGE frame flags")
		} else {
			assert.Equal(t, byte(flagCommand), flags&^flagLong, "%s frame flags", name)
		}
		names = append(names, name)
		rest = rest[n+size:]
	}
	assert.Equal(t, []string{"HELLO", "INITIATE", "MESSAGE", "MESSAGE", "MESSAGE"}, names)
}

func TestCurveWrongServerKey(t *testing.T) {
	server, client, other := newTestKeys(t), newTestKeys(t), newTestKeys(t)
	cfgC, cfgS := curveConfigs(t, server, client, nil)
	cfgC.Security = CurveClient{ServerKey: other.public, SecretKey: client.secret}
	cli, srv := tcpConns(t, Options{})
	rc, rs := handshakeBoth(t, cli, srv, cfgC, cfgS)
	require.ErrorIs(t, rs.err, ErrDecrypt)
	assert.ErrorIs(t, rs.err, transport.ErrProtocol)
	var pe *transport.PeerError
	require.ErrorAs(t, rc.err, &pe, "the server says why in an ERROR")
	assert.Contains(t, pe.Reason, "another server key")
}

func TestCurveRefusals(t *testing.T) {
	for _, tc := range []struct {
		name       string
		reply      transport.AuthReply
		err        error
		status     int
		clientSees func(t *testing.T, err error)
	}{
		{"denied", transport.AuthReply{Status: 400, Text: "unknown key"}, nil, 400, func(t *testing.T, err error) {
			var ae *transport.AuthError
			require.ErrorAs(t, err, &ae)
			assert.True(t, ae.ByPeer)
			assert.Equal(t, 400, ae.Status)
			var pe *transport.PeerError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, "400", pe.Reason, "libzmq's way: the status code is the reason")
		}},
		{"internal", transport.AuthReply{}, errors.New("database down"), 500, func(t *testing.T, err error) {
			var ae *transport.AuthError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, 500, ae.Status)
		}},
		{"bad status", transport.AuthReply{Status: 201}, nil, 500, func(t *testing.T, err error) {
			assert.ErrorIs(t, err, transport.ErrAuthFailed)
		}},
		{"temporary", transport.AuthReply{Status: 300, Text: "try later"}, nil, 300, func(t *testing.T, err error) {
			assert.NotErrorIs(t, err, transport.ErrAuthFailed, "300 closes without an ERROR (RFC 26)")
			assert.ErrorIs(t, err, io.EOF)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			server, client := newTestKeys(t), newTestKeys(t)
			auth := &recordingAuth{reply: func(*transport.AuthRequest) (transport.AuthReply, error) { return tc.reply, tc.err }}
			cfgC, cfgS := curveConfigs(t, server, client, auth)
			cli, srv := tcpConns(t, Options{})
			rc, rs := handshakeBoth(t, cli, srv, cfgC, cfgS)
			var ae *transport.AuthError
			require.ErrorAs(t, rs.err, &ae)
			assert.Equal(t, tc.status, ae.Status)
			assert.False(t, ae.ByPeer)
			assert.ErrorIs(t, rs.err, transport.ErrAuthFailed)
			tc.clientSees(t, rc.err)
		})
	}
}

// Without an authenticator a CURVE server admits every client that knows
// its key (libzmq without a ZAP handler).
func TestCurveWithoutAuthenticator(t *testing.T) {
	cli, srv := curvePair(t, Options{})
	require.NoError(t, cli.WriteMsg(transport.Msg{Frames: [][]byte{[]byte("x")}}))
	require.NoError(t, cli.Flush())
	m, err := srv.ReadMsg()
	require.NoError(t, err)
	assert.Equal(t, "x", string(m.Frames[0]))
}

// Two servers are refused at the greeting. Two clients both wait for a
// WELCOME and get each other's HELLO instead: a protocol error.
func TestCurveRolesMustDiffer(t *testing.T) {
	server, client := newTestKeys(t), newTestKeys(t)
	cfgC, cfgS := curveConfigs(t, server, client, nil)
	a, b := tcpConns(t, Options{})
	ra, rb := handshakeBoth(t, a, b, cfgS, &transport.Config{SocketType: "PUSH", Security: cfgS.Security})
	assert.ErrorIs(t, ra.err, ErrMechanismMismatch)
	assert.ErrorIs(t, rb.err, ErrMechanismMismatch)

	a, b = tcpConns(t, Options{})
	ra, rb = handshakeBoth(t, a, b, cfgC, &transport.Config{SocketType: "PULL", Security: cfgC.Security})
	require.Error(t, ra.err)
	require.Error(t, rb.err)
	assert.True(t, errors.Is(ra.err, transport.ErrProtocol) || errors.Is(rb.err, transport.ErrProtocol),
		"one of them sees the other's HELLO (the other may see the connection close first): %v / %v", ra.err, rb.err)
}

func TestMechanismMismatch(t *testing.T) {
	server, client := newTestKeys(t), newTestKeys(t)
	_, cfgS := curveConfigs(t, server, client, nil)
	a, b := tcpConns(t, Options{})
	ra, rb := handshakeBoth(t, a, b, &transport.Config{SocketType: "PUSH"}, cfgS)
	assert.ErrorIs(t, ra.err, ErrMechanismMismatch)
	assert.ErrorIs(t, rb.err, ErrMechanismMismatch)
}

// A client that cannot handshake gets an error, not a panic, for each
// malformed server command.
func TestCurveClientRejectsMalformedServerCommands(t *testing.T) {
	server, client := newTestKeys(t), newTestKeys(t)
	mech, err := newCurveClient(CurveClient{ServerKey: server.public, SecretKey: client.secret})
	require.NoError(t, err)
	_, err = mech.Start(nil)
	require.NoError(t, err)
	for name, data := range map[string][]byte{
		cmdReady:   make([]byte, 40),
		cmdWelcome: make([]byte, curveWelcomeData-1),
		"HELLO":    make([]byte, 194),
	} {
		_, _, _, err := mech.Step(name, data)
		assert.ErrorIs(t, err, transport.ErrProtocol, name)
	}
	_, _, _, err = mech.Step(cmdWelcome, make([]byte, curveWelcomeData))
	assert.ErrorIs(t, err, ErrDecrypt, "a WELCOME not from the server")
}

// The server refuses malformed HELLO and INITIATE commands with an ERROR
// and keeps nothing.
func TestCurveServerRejectsMalformedHello(t *testing.T) {
	server := newTestKeys(t)
	mutate := func(f func([]byte) []byte) []byte { return f(commandData(t, clientHello(t, server.public))) }
	for name, data := range map[string][]byte{
		"truncated":    mutate(func(b []byte) []byte { return b[:len(b)-1] }),
		"longer":       mutate(func(b []byte) []byte { return append(b, 0) }),
		"version":      mutate(func(b []byte) []byte { b[0] = 2; return b }),
		"padding":      mutate(func(b []byte) []byte { b[10] = 1; return b }),
		"box":          mutate(func(b []byte) []byte { b[len(b)-1] ^= 1; return b }),
		"nonce":        mutate(func(b []byte) []byte { b[2+curvePadding+keySize] ^= 1; return b }),
		"client key":   mutate(func(b []byte) []byte { b[2+curvePadding] ^= 1; return b }),
		"low order C'": mutate(func(b []byte) []byte { clear(b[2+curvePadding : 2+curvePadding+keySize]); return b }),
	} {
		t.Run(name, func(t *testing.T) {
			s := &curveServer{srv: curveServerFor(t, server, nil, ""), env: &authEnv{ctx: context.Background()}}
			_, _, _, err := s.Step(cmdHello, data)
			var rej *rejection
			require.ErrorAs(t, err, &rej)
			assert.ErrorIs(t, err, transport.ErrProtocol)
			assert.Equal(t, 0, s.step)
		})
	}
}

// Between WELCOME and INITIATE the server holds no key of the
// connection: its transient secret travels in the cookie.
func TestCurveServerKeepsNoKeysBeforeInitiate(t *testing.T) {
	server := newTestKeys(t)
	s := &curveServer{srv: curveServerFor(t, server, nil, ""), env: &authEnv{ctx: context.Background()}}
	_, _, _, err := s.Step(cmdHello, commandData(t, clientHello(t, server.public)))
	require.NoError(t, err)
	assert.Equal(t, 1, s.step)
	assert.Equal(t, [keySize]byte{}, s.key, "no connection key before INITIATE")
	assert.Equal(t, curveServer{srv: s.srv, env: s.env, helloNonce: 1, step: 1}, *s, "nothing but the HELLO nonce")
}

// A replayed INITIATE, on another connection with the HELLO replayed
// too, is refused: a cookie is good once.
func TestCurveInitiateReplayRefused(t *testing.T) {
	server, client := newTestKeys(t), newTestKeys(t)
	srvSec := curveServerFor(t, server, nil, "")
	srvCfg := &transport.Config{SocketType: "PULL", Security: srvSec}
	keys := CurveClient{ServerKey: server.public, SecretKey: client.secret}
	rc, _, res := rawCurveHandshake(t, keys, srvCfg)
	require.NoError(t, (<-res).err)

	srv2, p := newRawPeer(t, Options{})
	res2 := make(chan hsResult, 1)
	go func() {
		info, err := srv2.Handshake(context.Background(), srvCfg)
		res2 <- hsResult{info, err}
	}()
	p.send(rawGreeting(3, 1, mechanismCurve), rc.hello)
	p.readN(greetingSize)
	name, _ := p.readCommand()
	require.Equal(t, cmdWelcome, name)
	p.send(rc.initiate)
	name, data := p.readCommand()
	require.Equal(t, cmdError, name)
	assert.Equal(t, "cookie already used", parseErrorReason(data))
	assert.ErrorIs(t, (<-res2).err, ErrReplay)
}

// After the handshake, whatever a hostile client sends costs it its
// connection and nothing more.
func TestCurveHostileTraffic(t *testing.T) {
	server, client := newTestKeys(t), newTestKeys(t)
	keys := CurveClient{ServerKey: server.public, SecretKey: client.secret}
	for _, tc := range []struct {
		name string
		send func(t *testing.T, rc *rawCurveClient) []byte
		want error
	}{
		{"garbage box", func(t *testing.T, rc *rawCurveClient) []byte {
			b := boxed(t, rc.tx, rawFrame(0, []byte("hello")))
			b[len(b)-3] ^= 0x40
			return b
		}, ErrDecrypt},
		{"replayed nonce", func(t *testing.T, rc *rawCurveClient) []byte {
			first := boxed(t, rc.tx, rawFrame(0, []byte("once")))
			return append(bytes.Clone(first), first...)
		}, ErrReplay},
		{"nonce going back", func(t *testing.T, rc *rawCurveClient) []byte {
			rc.tx.nonce += 10
			later := boxed(t, rc.tx, rawFrame(0, []byte("later")))
			rc.tx.nonce -= 5
			return append(later, boxed(t, rc.tx, rawFrame(0, []byte("earlier")))...)
		}, ErrReplay},
		{"INITIATE nonce reused", func(t *testing.T, rc *rawCurveClient) []byte {
			rc.tx.nonce-- // the first MESSAGE reuses INITIATE's nonce
			return boxed(t, rc.tx, rawFrame(0, []byte("x")))
		}, ErrReplay},
		{"truncated MESSAGE", func(t *testing.T, rc *rawCurveClient) []byte {
			return rawFrame(flagCommand, append([]byte(msgName), make([]byte, 20)...))
		}, transport.ErrProtocol},
		{"MESSAGE marked MORE", func(t *testing.T, rc *rawCurveClient) []byte {
			b := boxed(t, rc.tx, rawFrame(0, []byte("x")))
			b[0] |= flagMore
			return b
		}, transport.ErrProtocol},
		{"MESSAGE marked as a command", func(t *testing.T, rc *rawCurveClient) []byte {
			// Accepted (RFC 25 calls it a command), then a garbage one.
			b := boxed(t, rc.tx, rawFrame(0, []byte("x")))
			b[0] |= flagCommand
			garbage := append(append([]byte(msgName), shortNonceBytes(1000)...), make([]byte, 40)...)
			return append(b, rawFrame(0, garbage)...)
		}, ErrDecrypt},
		{"plain frame", func(t *testing.T, rc *rawCurveClient) []byte {
			return rawFrame(0, []byte("in clear"))
		}, transport.ErrProtocol},
		{"plain PING", func(t *testing.T, rc *rawCurveClient) []byte {
			return appendCommand(nil, cmdPing, []byte{0, 0})
		}, transport.ErrProtocol},
		{"bad inner flags", func(t *testing.T, rc *rawCurveClient) []byte {
			// A frame whose boxed flags byte has a reserved bit.
			var out bytes.Buffer
			s := &sealer{box: rc.tx}
			require.NoError(t, s.write(&out, rawFrame(0, []byte("x")), nil))
			b := out.Bytes()
			n, _ := rc.tx.nextNonce()
			var ks keystream
			ct := make([]byte, 2)
			tag := rc.tx.sealPieces(&ks, n, ct, []byte{0x10}, []byte("x"))
			hdr := appendFrameHeader(nil, flagCommand, msgOverhead+1)
			hdr = append(hdr, msgName...)
			hdr = append(hdr, shortNonceBytes(n)...)
			return append(append(append(b, hdr...), tag[:]...), ct...)
		}, transport.ErrProtocol},
		{"oversized MESSAGE", func(t *testing.T, rc *rawCurveClient) []byte {
			return append(rawLongFrame(flagCommand, nil)[:1], shortNonceBytes(1<<40)...)
		}, transport.ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srvCfg := &transport.Config{SocketType: "PULL", MaxMsgSize: 1 << 20, Security: curveServerFor(t, server, nil, "")}
			rc, srv, res := rawCurveHandshake(t, keys, srvCfg)
			require.NoError(t, (<-res).err)
			rc.send(tc.send(t, rc))
			var err error
			for err == nil {
				_, err = srv.ReadMsg()
			}
			assert.ErrorIs(t, err, tc.want)
		})
	}
}

// A client's PING goes out ahead of messages it has buffered but not
// flushed; boxed as they leave, the PING carries the lower nonce and the
// server reads everything.
func TestCurvePingAheadOfBufferedMessages(t *testing.T) {
	server, client := newTestKeys(t), newTestKeys(t)
	cfgC, cfgS := curveConfigs(t, server, client, nil)
	cfgC.HeartbeatInterval = 5 * time.Millisecond
	cfgC.HeartbeatTimeout = time.Minute
	a, b := tcpPair(t)
	wire := &tap{Conn: a}
	cli := NewConn(wire, "c", "s", Options{})
	srv := NewConn(b, "s", "c", Options{})
	t.Cleanup(func() { _ = cli.Close(); _ = srv.Close() })
	mustHandshake(t, cli, srv, cfgC, cfgS)
	afterHandshake := len(wire.written())

	require.NoError(t, cli.WriteMsg(transport.Msg{Frames: [][]byte{[]byte("buffered")}}))
	require.Eventually(t, func() bool { return len(wire.written()) > afterHandshake }, 10*time.Second, time.Millisecond,
		"a PING was written while the message sat in the buffer")
	require.NoError(t, cli.Flush())
	m, err := srv.ReadMsg() // reads the PING (answered) and then the message
	require.NoError(t, err)
	assert.Equal(t, "buffered", string(m.Frames[0]))
}

// Heartbeats run over CURVE: PINGs and PONGs are boxed like the rest,
// interleaved with messages.
func TestCurveHeartbeats(t *testing.T) {
	server, client := newTestKeys(t), newTestKeys(t)
	cfgC, cfgS := curveConfigs(t, server, client, nil)
	for _, cfg := range []*transport.Config{cfgC, cfgS} {
		cfg.HeartbeatInterval = 5 * time.Millisecond
		cfg.HeartbeatTimeout = 5 * time.Second
	}
	a, b := tcpPair(t)
	srvWire := &tap{Conn: b}
	cli := NewConn(a, "c", "s", Options{})
	srv := NewConn(srvWire, "s", "c", Options{})
	t.Cleanup(func() { _ = cli.Close(); _ = srv.Close() })
	mustHandshake(t, cli, srv, cfgC, cfgS)

	srvDone := make(chan error, 1)
	go func() {
		for {
			m, err := srv.ReadMsg()
			if err != nil || string(m.Frames[0]) == "end" {
				srvDone <- err
				return
			}
		}
	}()
	cliRead := make(chan error, 1)
	go func() {
		_, err := cli.ReadMsg() // answers the server's PINGs until Close
		cliRead <- err
	}()
	for i := range 5 {
		// The server sends no messages: whatever it writes now is a PING
		// or a PONG.
		before := len(srvWire.written())
		require.NoError(t, cli.WriteMsg(transport.Msg{Frames: [][]byte{[]byte(fmt.Sprint(i))}}))
		require.NoError(t, cli.Flush())
		require.Eventually(t, func() bool { return len(srvWire.written()) > before }, 10*time.Second, time.Millisecond)
	}
	require.NoError(t, cli.WriteMsg(transport.Msg{Frames: [][]byte{[]byte("end")}}))
	require.NoError(t, cli.Flush())
	require.NoError(t, <-srvDone)
	require.NoError(t, cli.Close())
	assert.ErrorIs(t, <-cliRead, transport.ErrClosed)
}

// A prepared client (NewCurveClient) shakes hands like a CurveClient
// value, and refuses the same bad keys.
func TestNewCurveClient(t *testing.T) {
	server, client := newTestKeys(t), newTestKeys(t)
	_, cfgS := curveConfigs(t, server, client, nil)
	prepared, err := NewCurveClient(server.public, [32]byte{}, client.secret)
	require.NoError(t, err)
	assert.Equal(t, client.public, prepared.PublicKey, "the public key is computed")
	for range 2 { // the prepared key serves every connection
		cli, srv := tcpConns(t, Options{})
		mustHandshake(t, cli, srv, &transport.Config{SocketType: "PUSH", Security: prepared}, cfgS)
	}
	_, err = NewCurveClient([32]byte{}, client.public, client.secret)
	assert.Error(t, err)
	_, err = NewCurveClient(server.public, server.public, client.secret)
	assert.Error(t, err)
}

// A prepared client whose key pair is changed afterwards presents the
// new key pair, checked: what it prepared is used only for the keys it
// prepared.
func TestNewCurveClientChangedKeys(t *testing.T) {
	server, client, other := newTestKeys(t), newTestKeys(t), newTestKeys(t)
	auth := answer(transport.AuthReply{Status: 200})
	_, cfgS := curveConfigs(t, server, client, auth)
	prepared, err := NewCurveClient(server.public, [32]byte{}, client.secret)
	require.NoError(t, err)
	prepared.PublicKey, prepared.SecretKey = [32]byte{}, other.secret
	cli, srv := tcpConns(t, Options{})
	mustHandshake(t, cli, srv, &transport.Config{SocketType: "PUSH", Security: prepared}, cfgS)
	reqs := auth.requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, [][]byte{other.public[:]}, reqs[0].Credentials, "the server sees the new key")

	prepared.PublicKey = client.public // not other's
	assert.Error(t, CheckSecurity(prepared))
}
