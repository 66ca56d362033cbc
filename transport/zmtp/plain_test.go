package zmtp

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

// passwords answers PLAIN requests from a user table.
func passwords(users map[string]string) *recordingAuth {
	return &recordingAuth{reply: func(req *transport.AuthRequest) (transport.AuthReply, error) {
		if req.Mechanism == "PLAIN" && len(req.Credentials) == 2 {
			if pw, ok := users[string(req.Credentials[0])]; ok && pw == string(req.Credentials[1]) {
				return transport.AuthReply{Status: 200, UserID: string(req.Credentials[0])}, nil
			}
		}
		return transport.AuthReply{Status: 400, Text: "invalid user name or password"}, nil
	}}
}

func plainConfigs(user, pass string, a transport.Authenticator) (cli, srv *transport.Config) {
	cli = &transport.Config{SocketType: "DEALER", AnnounceIdentity: true, Identity: []byte("cli"),
		Security: PlainClient{Username: user, Password: pass}}
	srv = &transport.Config{SocketType: "ROUTER", AnnounceIdentity: true,
		Security: PlainServer{Authenticator: a, Domain: "plain-domain"}}
	return cli, srv
}

func TestPlainHandshake(t *testing.T) {
	auth := passwords(map[string]string{"admin": "s3cret"})
	cfgC, cfgS := plainConfigs("admin", "s3cret", auth)
	cli, srv := tcpConns(t, Options{})
	rc, rs := handshakeBoth(t, cli, srv, cfgC, cfgS)
	require.NoError(t, rc.err)
	require.NoError(t, rs.err)
	assert.Equal(t, "ROUTER", rc.info.SocketType)
	assert.Equal(t, "DEALER", rs.info.SocketType)
	assert.Equal(t, "cli", string(rs.info.Identity), "INITIATE carries the metadata")
	assert.Equal(t, "admin", rs.info.UserID)
	reqs := auth.requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, "plain-domain", reqs[0].Domain)
	assert.Equal(t, "127.0.0.1", reqs[0].Address)
	assert.Equal(t, [][]byte{[]byte("admin"), []byte("s3cret")}, reqs[0].Credentials)

	// Frames travel as they are (PLAIN protects nothing).
	require.NoError(t, cli.WriteMsg(transport.Msg{Frames: [][]byte{[]byte("hi")}}))
	require.NoError(t, cli.Flush())
	m, err := srv.ReadMsg()
	require.NoError(t, err)
	assert.Equal(t, "hi", string(m.Frames[0]))
}

func TestPlainWrongPassword(t *testing.T) {
	cfgC, cfgS := plainConfigs("admin", "guess", passwords(map[string]string{"admin": "s3cret"}))
	cli, srv := tcpConns(t, Options{})
	rc, rs := handshakeBoth(t, cli, srv, cfgC, cfgS)
	var ae *transport.AuthError
	require.ErrorAs(t, rs.err, &ae)
	assert.Equal(t, transport.AuthError{Status: 400, Text: "invalid user name or password"}, *ae)
	require.ErrorAs(t, rc.err, &ae)
	assert.Equal(t, transport.AuthError{Status: 400, ByPeer: true}, *ae)
	assert.ErrorIs(t, rc.err, transport.ErrAuthFailed)
}

func TestPlainConfigErrors(t *testing.T) {
	assert.Error(t, CheckSecurity(PlainServer{}), "a PLAIN server without an authenticator")
	assert.Error(t, CheckSecurity(PlainClient{Username: strings.Repeat("u", 256)}))
	assert.Error(t, CheckSecurity(&PlainClient{Password: strings.Repeat("p", 256)}))
	assert.NoError(t, CheckSecurity(PlainClient{Username: strings.Repeat("u", 255)}))
	assert.Error(t, CheckSecurity(NullServer{}))
	assert.Error(t, CheckSecurity(&CurveServer{}), "not made by NewCurveServer")
	_, err := NewCurveServer([32]byte{}, nil, "")
	assert.Error(t, err)
	k := newTestKeys(t)
	assert.Error(t, CheckSecurity(CurveClient{SecretKey: k.secret}), "no server key")
	assert.Error(t, CheckSecurity(CurveClient{ServerKey: k.public}), "no secret key")
	assert.Error(t, CheckSecurity(CurveClient{ServerKey: k.public, SecretKey: k.secret, PublicKey: newTestKeys(t).public}))
	assert.NoError(t, CheckSecurity(CurveClient{ServerKey: k.public, SecretKey: k.secret, PublicKey: k.public}))

	// A handshake with a bad Security fails before anything is sent.
	cli, _ := tcpConns(t, Options{})
	_, err = cli.Handshake(context.Background(), &transport.Config{SocketType: "PAIR", Security: PlainServer{}})
	assert.Error(t, err)
}

// Malformed HELLOs are refused with an ERROR naming them.
func TestPlainServerRejectsMalformedHello(t *testing.T) {
	for name, data := range map[string][]byte{
		"empty":          {},
		"user truncated": {5, 'a'},
		"no password":    {1, 'a'},
		"pass truncated": {1, 'a', 3, 'x'},
		"trailing bytes": {1, 'a', 1, 'b', 0},
	} {
		t.Run(name, func(t *testing.T) {
			_, cfgS := plainConfigs("", "", answer(transport.AuthReply{Status: 200}))
			srv, p := newRawPeer(t, Options{})
			res := make(chan hsResult, 1)
			go func() {
				info, err := srv.Handshake(context.Background(), cfgS)
				res <- hsResult{info, err}
			}()
			g := rawGreeting(3, 1, mechanismPlain)
			p.send(g, appendCommand(nil, cmdHello, data))
			p.readN(greetingSize)
			flags, body := p.readFrame()
			assert.Equal(t, byte(flagCommand), flags)
			assert.Equal(t, libzmqPlainError, string(body[:5]), "written as libzmq's PLAIN writes it")
			cmd, reason, err := parseHandshakeCommand(body)
			require.NoError(t, err)
			assert.Equal(t, cmdError, cmd)
			assert.Equal(t, "malformed HELLO", parseErrorReason(reason))
			assert.ErrorIs(t, (<-res).err, transport.ErrProtocol)
		})
	}
}

// The PLAIN state machines refuse commands out of turn.
func TestPlainOutOfTurn(t *testing.T) {
	c := newPlainClient(PlainClient{})
	_, err := c.Start(nil)
	require.NoError(t, err)
	_, _, _, err = c.Step(cmdReady, nil)
	assert.ErrorIs(t, err, transport.ErrProtocol, "READY before WELCOME")
	_, _, _, err = c.Step(cmdWelcome, []byte{1})
	assert.ErrorIs(t, err, transport.ErrProtocol, "WELCOME with data")

	s := &plainServer{cfg: PlainServer{Authenticator: answer(transport.AuthReply{Status: 200})}, env: &authEnv{ctx: context.Background()}}
	_, _, _, err = s.Step(cmdInitiate, nil)
	assert.ErrorIs(t, err, transport.ErrProtocol, "INITIATE before HELLO")
	_, _, _, err = s.Step(cmdHello, []byte{0, 0})
	require.NoError(t, err)
	_, _, _, err = s.Step(cmdHello, []byte{0, 0})
	assert.ErrorIs(t, err, transport.ErrProtocol, "a second HELLO")
	_, _, _, err = s.Step(cmdInitiate, []byte{3, 'a'})
	assert.ErrorIs(t, err, transport.ErrProtocol, "malformed metadata")
}

func TestNullServerAuthenticates(t *testing.T) {
	auth := answer(transport.AuthReply{Status: 200, UserID: "anonymous"})
	a, b := tcpConns(t, Options{})
	ra, rb := handshakeBoth(t, a, b, &transport.Config{SocketType: "PUSH"},
		&transport.Config{SocketType: "PULL", Security: NullServer{Authenticator: auth, Domain: "d"}})
	require.NoError(t, ra.err)
	require.NoError(t, rb.err)
	assert.Equal(t, "anonymous", rb.info.UserID)
	reqs := auth.requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, transport.AuthRequest{Domain: "d", Address: "127.0.0.1", Mechanism: "NULL"}, reqs[0])
}

func TestNullServerRefuses(t *testing.T) {
	a, b := tcpConns(t, Options{})
	ra, rb := handshakeBoth(t, a, b, &transport.Config{SocketType: "PUSH"},
		&transport.Config{SocketType: "PULL", Security: NullServer{Authenticator: answer(transport.AuthReply{Status: 400, Text: "address denied"})}})
	var ae *transport.AuthError
	require.ErrorAs(t, rb.err, &ae)
	assert.Equal(t, "address denied", ae.Text)
	require.ErrorAs(t, ra.err, &ae)
	assert.True(t, ae.ByPeer)
}

// libzmq's PLAIN ERROR, exactly as libzmq 4.3.4 sent it refusing a
// password (its "\x05ERROR" literal is "\x5eRROR"), reads as ERROR "400";
// the standard form still reads, and garbage stays an error.
func TestParseHandshakeCommandReadsLibzmqPlainError(t *testing.T) {
	name, data, err := parseHandshakeCommand(unhex(t, "5e52524f5203343030"))
	require.NoError(t, err)
	assert.Equal(t, cmdError, name)
	assert.Equal(t, "400", parseErrorReason(data))
	var ae *transport.AuthError
	require.ErrorAs(t, peerRefusal(parseErrorReason(data)), &ae)
	assert.Equal(t, transport.AuthError{Status: 400, ByPeer: true}, *ae)

	name, data, err = parseHandshakeCommand(append([]byte("\x05ERROR"), errorData("400")...))
	require.NoError(t, err)
	assert.Equal(t, cmdError, name)
	assert.Equal(t, "400", parseErrorReason(data))

	_, _, err = parseHandshakeCommand([]byte{0x5e, 'R'})
	assert.ErrorIs(t, err, transport.ErrProtocol)
}

func TestZapStatus(t *testing.T) {
	for reason, want := range map[string]int{"300": 300, "400": 400, "500": 500, "200": 0, "401": 0, "40": 0, "4000": 0, "abc": 0} {
		code, ok := zapStatus(reason)
		assert.Equal(t, want != 0, ok, reason)
		assert.Equal(t, want, code, reason)
	}
}

// An authenticator that does not answer is cut short by the handshake
// timeout, and by the handshake's context: its context ends, and the
// handshake fails with ErrHandshakeTimeout.
func TestAuthenticatorBoundByHandshake(t *testing.T) {
	for _, how := range []string{"timeout", "context"} {
		t.Run(how, func(t *testing.T) {
			called := make(chan struct{})
			ended := make(chan error, 1)
			blocking := transport.AuthenticatorFunc(func(ctx context.Context, req *transport.AuthRequest) (transport.AuthReply, error) {
				close(called)
				<-ctx.Done()
				ended <- ctx.Err()
				return transport.AuthReply{}, ctx.Err()
			})
			cfgC, cfgS := plainConfigs("u", "p", blocking)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if how == "timeout" {
				cfgS.HandshakeTimeout = 100 * time.Millisecond
			}
			cli, srv := tcpConns(t, Options{})
			res := make(chan hsResult, 1)
			go func() {
				info, err := srv.Handshake(ctx, cfgS)
				res <- hsResult{info, err}
			}()
			go func() { _, _ = cli.Handshake(context.Background(), cfgC) }()
			<-called
			if how == "context" {
				cancel()
			}
			require.Error(t, <-ended, "the authenticator's context ended")
			assert.ErrorIs(t, (<-res).err, transport.ErrHandshakeTimeout)
		})
	}
}
