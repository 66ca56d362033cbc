package socket_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/curve"
	"github.com/brookmq/brook/socket"
	"github.com/brookmq/brook/transport"
)

func keyPair(t *testing.T) curve.KeyPair {
	t.Helper()
	kp, err := curve.NewKeyPair()
	require.NoError(t, err)
	return kp
}

// allowKeys admits CURVE clients with the given keys, user id "user-" +
// the key's first Z85 characters.
func allowKeys(keys ...curve.Key) transport.Authenticator {
	return transport.AuthenticatorFunc(func(_ context.Context, req *transport.AuthRequest) (transport.AuthReply, error) {
		for _, k := range keys {
			if len(req.Credentials) == 1 && string(req.Credentials[0]) == string(k[:]) {
				return transport.AuthReply{Status: 200, UserID: "user-" + k.String()[:8]}, nil
			}
		}
		return transport.AuthReply{Status: 400, Text: "unknown key"}, nil
	})
}

// Every pattern works over CURVE, on every stream transport, with the
// server role on the binding side or on the connecting side; the
// receiving server sees each message's authenticated user id.
func TestPatternsOverCurve(t *testing.T) {
	srvKeys, cliKeys := keyPair(t), keyPair(t)
	server := socket.WithCurveServer(srvKeys, allowKeys(cliKeys.Public))
	client := socket.WithCurveClient(srvKeys.Public, cliKeys)
	wantUser := "user-" + cliKeys.Public.String()[:8]
	for _, tc := range allTransports(t) {
		if tc.name == "inproc" {
			continue // never secured, as in libzmq
		}
		t.Run(tc.name, func(t *testing.T) {
			mk := func(typ socket.Type, extra ...socket.Option) *socket.Socket {
				return newSocket(t, typ, append(tc.opts(t), extra...)...)
			}
			pair := func(a, b *socket.Socket) {
				require.NoError(t, a.Bind(tc.ep(t)))
				require.NoError(t, b.Connect(a.LastEndpoint()))
			}
			t.Run("pushpull", func(t *testing.T) {
				ctx := testCtx(t)
				pull, push := mk(socket.Pull, server), mk(socket.Push, client)
				pair(pull, push)
				big := make([]byte, 1<<20)
				big[777] = 7
				require.NoError(t, push.Send(ctx, socket.NewMsg([]byte("a"), nil, big)))
				d, err := pull.RecvDelivery(ctx)
				require.NoError(t, err)
				require.Len(t, d.Msg.Frames, 3)
				assert.Equal(t, big, d.Msg.Frames[2])
				assert.Equal(t, wantUser, d.Peer.UserID)
				v, _ := d.Peer.Property("User-Id")
				assert.Equal(t, wantUser, string(v))
			})
			t.Run("pushpull, server connects", func(t *testing.T) {
				ctx := testCtx(t)
				push, pull := mk(socket.Push, server), mk(socket.Pull, client)
				pair(pull, push)
				require.NoError(t, push.Send(ctx, msgOf("from the server")))
				m, err := pull.Recv(ctx)
				require.NoError(t, err)
				assert.Equal(t, "from the server", string(m.Frames[0]))
			})
			t.Run("pubsub", func(t *testing.T) {
				ctx := testCtx(t)
				pub, sub := mk(socket.Pub, server), mk(socket.Sub, client)
				pair(pub, sub)
				require.NoError(t, sub.Subscribe([]byte("w.")))
				awaitDelivery(t, ctx, pub, sub, "w.probe")
				require.NoError(t, pub.Send(ctx, msgOf("x.no")))
				require.NoError(t, pub.Send(ctx, msgOf("w.yes")))
				assert.Equal(t, "w.yes", recvSkipping(t, ctx, sub, "w.probe"))
			})
			t.Run("xpubxsub", func(t *testing.T) {
				ctx := testCtx(t)
				xpub, xsub := mk(socket.XPub, server), mk(socket.XSub, client)
				pair(xpub, xsub)
				require.NoError(t, xsub.Send(ctx, socket.NewMsg([]byte("\x01t."))))
				m, err := xpub.Recv(ctx)
				require.NoError(t, err)
				assert.Equal(t, "\x01t.", string(m.Frames[0]))
				require.NoError(t, xpub.Send(ctx, msgOf("t.1")))
				m, err = xsub.Recv(ctx)
				require.NoError(t, err)
				assert.Equal(t, "t.1", string(m.Frames[0]))
			})
			t.Run("reqrep", func(t *testing.T) {
				ctx := testCtx(t)
				rep, req := mk(socket.Rep, server), mk(socket.Req, client)
				pair(rep, req)
				go echo(ctx, rep)
				for i := range 20 {
					require.NoError(t, req.Send(ctx, msgOf(fmt.Sprint(i))))
					m, err := req.Recv(ctx)
					require.NoError(t, err)
					require.Equal(t, fmt.Sprintf("re:%d", i), string(m.Frames[0]))
				}
			})
			t.Run("dealerrouter", func(t *testing.T) {
				ctx := testCtx(t)
				router := mk(socket.Router, server)
				dealer := mk(socket.Dealer, client, socket.WithRoutingID([]byte("d1")))
				pair(router, dealer)
				require.NoError(t, dealer.Send(ctx, msgOf("hello")))
				m, err := router.Recv(ctx)
				require.NoError(t, err)
				require.Equal(t, []string{"d1", "hello"}, frames(m))
				require.NoError(t, router.Send(ctx, socket.NewMsg([]byte("d1"), []byte("back"))))
				m, err = dealer.Recv(ctx)
				require.NoError(t, err)
				assert.Equal(t, "back", string(m.Frames[0]))
			})
			t.Run("pair", func(t *testing.T) {
				ctx := testCtx(t)
				a, b := mk(socket.Pair, server), mk(socket.Pair, client)
				pair(a, b)
				require.NoError(t, b.Send(ctx, msgOf("ping")))
				m, err := a.Recv(ctx)
				require.NoError(t, err)
				assert.Equal(t, "ping", string(m.Frames[0]))
				require.NoError(t, a.Send(ctx, msgOf("pong")))
				m, err = b.Recv(ctx)
				require.NoError(t, err)
				assert.Equal(t, "pong", string(m.Frames[0]))
			})
		})
	}
}

func frames(m socket.Msg) []string {
	s := make([]string, len(m.Frames))
	for i, f := range m.Frames {
		s[i] = string(f)
	}
	return s
}

// echo answers every request on rep with "re:" + its first frame.
func echo(ctx context.Context, rep *socket.Socket) {
	for {
		m, err := rep.Recv(ctx)
		if err != nil {
			return
		}
		if rep.Send(ctx, socket.NewMsg(append([]byte("re:"), m.Frames[0]...))) != nil {
			return
		}
	}
}

// awaitDelivery publishes probe until sub receives it (subscriptions
// travel asynchronously).
func awaitDelivery(t *testing.T, ctx context.Context, pub, sub *socket.Socket, probe string) {
	t.Helper()
	for {
		require.NoError(t, pub.Send(ctx, msgOf(probe)))
		short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		_, err := sub.Recv(short)
		cancel()
		if err == nil {
			return
		}
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.NoError(t, ctx.Err(), "no probe arrived")
	}
}

// recvSkipping receives the next message that is not skip.
func recvSkipping(t *testing.T, ctx context.Context, s *socket.Socket, skip string) string {
	t.Helper()
	for {
		m, err := s.Recv(ctx)
		require.NoError(t, err)
		if string(m.Frames[0]) != skip {
			return string(m.Frames[0])
		}
	}
}

// handshakeFailure binds a server, connects a client and returns the
// first handshake failure each side reports.
func handshakeFailure(t *testing.T, serverOpts, clientOpts []socket.Option) (srvErr, cliErr error) {
	t.Helper()
	ctx := testCtx(t)
	srv := newSocket(t, socket.Pull, serverOpts...)
	cli := newSocket(t, socket.Push, clientOpts...)
	srvEv, stopS := srv.Monitor()
	defer stopS()
	cliEv, stopC := cli.Monitor()
	defer stopC()
	require.NoError(t, srv.Bind("tcp://127.0.0.1:0"))
	require.NoError(t, cli.Connect(srv.LastEndpoint()))
	srvErr = waitEvent(t, ctx, srvEv, socket.EventHandshakeFailed).Err
	cliErr = waitEvent(t, ctx, cliEv, socket.EventHandshakeFailed).Err
	return srvErr, cliErr
}

// Refusals show on both sides as EventHandshakeFailed with an error that
// says what happened.
func TestSecurityFailureEvents(t *testing.T) {
	srvKeys, cliKeys, stranger := keyPair(t), keyPair(t), keyPair(t)
	server := socket.WithCurveServer(srvKeys, allowKeys(cliKeys.Public))

	t.Run("unknown client key", func(t *testing.T) {
		srvErr, cliErr := handshakeFailure(t, []socket.Option{server},
			[]socket.Option{socket.WithCurveClient(srvKeys.Public, stranger)})
		var ae *transport.AuthError
		require.ErrorAs(t, srvErr, &ae)
		assert.Equal(t, transport.AuthError{Status: 400, Text: "unknown key"}, *ae)
		require.ErrorIs(t, cliErr, socket.ErrAuthFailed)
		require.ErrorAs(t, cliErr, &ae)
		assert.True(t, ae.ByPeer)
	})
	t.Run("wrong server key", func(t *testing.T) {
		srvErr, cliErr := handshakeFailure(t, []socket.Option{server},
			[]socket.Option{socket.WithCurveClient(stranger.Public, cliKeys)})
		assert.ErrorIs(t, srvErr, socket.ErrDecrypt)
		var pe *transport.PeerError
		require.ErrorAs(t, cliErr, &pe)
		assert.Contains(t, pe.Reason, "another server key")
	})
	t.Run("mechanism mismatch", func(t *testing.T) {
		srvErr, cliErr := handshakeFailure(t, []socket.Option{server}, nil)
		assert.ErrorIs(t, srvErr, socket.ErrMechanismMismatch)
		assert.ErrorIs(t, cliErr, socket.ErrMechanismMismatch)
	})
	t.Run("bad password", func(t *testing.T) {
		users := transport.AuthenticatorFunc(func(_ context.Context, req *transport.AuthRequest) (transport.AuthReply, error) {
			if string(req.Credentials[0]) == "admin" && string(req.Credentials[1]) == "secret" {
				return transport.AuthReply{Status: 200, UserID: "admin"}, nil
			}
			return transport.AuthReply{Status: 400, Text: "bad password"}, nil
		})
		srvErr, cliErr := handshakeFailure(t, []socket.Option{socket.WithPlainServer(users)},
			[]socket.Option{socket.WithPlainClient("admin", "guess")})
		assert.ErrorIs(t, srvErr, socket.ErrAuthFailed)
		assert.ErrorIs(t, cliErr, socket.ErrAuthFailed)
	})
	t.Run("address denied on NULL", func(t *testing.T) {
		deny := transport.AuthenticatorFunc(func(_ context.Context, req *transport.AuthRequest) (transport.AuthReply, error) {
			return transport.AuthReply{Status: 400, Text: "address " + req.Address + " denied"}, nil
		})
		srvErr, cliErr := handshakeFailure(t, []socket.Option{socket.WithAuthenticator(deny)}, nil)
		assert.ErrorContains(t, srvErr, "address 127.0.0.1 denied")
		assert.ErrorIs(t, cliErr, socket.ErrAuthFailed)
	})
}

// The server stays available to good clients while bad ones fail.
func TestCurveServerServesGoodClientsBesideBadOnes(t *testing.T) {
	ctx := testCtx(t)
	srvKeys, good, bad := keyPair(t), keyPair(t), keyPair(t)
	pull := newSocket(t, socket.Pull, socket.WithCurveServer(srvKeys, allowKeys(good.Public)))
	require.NoError(t, pull.Bind("tcp://127.0.0.1:0"))
	var wg sync.WaitGroup
	for range 4 {
		b := newSocket(t, socket.Push, socket.WithCurveClient(srvKeys.Public, bad), socket.WithReconnectInterval(5*time.Millisecond))
		require.NoError(t, b.Connect(pull.LastEndpoint()))
	}
	for i := range 3 {
		wg.Add(1)
		g := newSocket(t, socket.Push, socket.WithCurveClient(srvKeys.Public, good))
		require.NoError(t, g.Connect(pull.LastEndpoint()))
		go func() {
			defer wg.Done()
			assert.NoError(t, g.Send(ctx, msgOf(fmt.Sprint("good ", i))))
		}()
	}
	got := map[string]bool{}
	for range 3 {
		m, err := pull.Recv(ctx)
		require.NoError(t, err)
		got[string(m.Frames[0])] = true
	}
	wg.Wait()
	assert.Len(t, got, 3)
}

func TestSecurityOptionsValidated(t *testing.T) {
	kp := keyPair(t)
	other := keyPair(t)
	auth := transport.AuthenticatorFunc(func(context.Context, *transport.AuthRequest) (transport.AuthReply, error) {
		return transport.AuthReply{Status: 200}, nil
	})
	for name, opts := range map[string][]socket.Option{
		"two mechanisms":         {socket.WithPlainClient("u", "p"), socket.WithCurveClient(kp.Public, other)},
		"client and server":      {socket.WithCurveServer(kp, nil), socket.WithCurveClient(kp.Public, other)},
		"PLAIN server, no auth":  {socket.WithPlainServer(nil)},
		"long user name":         {socket.WithPlainClient(strings.Repeat("u", 256), "")},
		"no server key":          {socket.WithCurveClient(curve.Key{}, kp)},
		"mismatched client keys": {socket.WithCurveClient(kp.Public, curve.KeyPair{Public: kp.Public, Secret: other.Secret})},
		"zero server secret":     {socket.WithCurveServer(curve.KeyPair{}, nil)},
		"NULL auth with CURVE":   {socket.WithAuthenticator(auth), socket.WithCurveServer(kp, nil)},
		"two authenticators":     {socket.WithAuthenticator(auth), socket.WithPlainServer(auth)},
		"nil authenticator":      {socket.WithAuthenticator(nil)},
		"long ZAP domain":        {socket.WithZAPDomain(strings.Repeat("d", 256))},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := socket.New(socket.Pull, opts...)
			assert.ErrorIs(t, err, socket.ErrBadOption)
		})
	}
	for name, opts := range map[string][]socket.Option{
		"CURVE server, secret only": {socket.WithCurveServer(curve.KeyPair{Secret: kp.Secret}, nil), socket.WithZAPDomain("d")},
		"CURVE client, secret only": {socket.WithCurveClient(kp.Public, curve.KeyPair{Secret: other.Secret})},
		"PLAIN client":              {socket.WithPlainClient("u", "p")},
		"NULL with authenticator":   {socket.WithAuthenticator(auth)},
	} {
		t.Run(name, func(t *testing.T) {
			s, err := socket.New(socket.Pull, opts...)
			require.NoError(t, err)
			require.NoError(t, s.Close())
		})
	}
}

// inproc connections are not secured: a CURVE server talks to a NULL
// client over inproc, as libzmq does.
func TestInprocIgnoresSecurity(t *testing.T) {
	ctx := testCtx(t)
	pull := newSocket(t, socket.Pull, socket.WithCurveServer(keyPair(t), nil))
	push := newSocket(t, socket.Push)
	ep := inprocEndpoint(t)
	require.NoError(t, pull.Bind(ep))
	require.NoError(t, push.Connect(ep))
	require.NoError(t, push.Send(ctx, msgOf("in process")))
	m, err := pull.Recv(ctx)
	require.NoError(t, err)
	assert.Equal(t, "in process", string(m.Frames[0]))
}
