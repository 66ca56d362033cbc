package interop

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/auth"
	"github.com/brookmq/brook/curve"
	"github.com/brookmq/brook/socket"
	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/inproc"
)

// The security interop tests run brook's PLAIN and CURVE against libzmq
// 4.3 (pyzmq): both mechanisms, over tcp and ipc, brook as server and as
// client, binding and connecting, with right and wrong credentials, with
// every key taken from certificate files pyzmq wrote; and brook's ZAP
// handling next to libzmq's, request by request and verdict by verdict.

// pyCerts are certificates pyzmq wrote: a server, a client, and a
// stranger the servers do not know. allowed is a directory holding only
// the client's public certificate.
type pyCerts struct {
	dir                      string
	server, client, stranger *curve.Certificate
	allowed                  string
}

func newPyCerts(t *testing.T) pyCerts {
	t.Helper()
	dir := t.TempDir()
	pyzmqCertificates(t, dir, "server", "client", "stranger")
	load := func(name string) *curve.Certificate {
		c, err := curve.LoadCertificate(filepath.Join(dir, name+".key"))
		require.NoError(t, err, "brook reads pyzmq's %s.key (and its secret from %s.key_secret)", name, name)
		require.True(t, c.HasSecret())
		return c
	}
	pc := pyCerts{dir: dir, server: load("server"), client: load("client"), stranger: load("stranger")}
	pc.allowed = filepath.Join(dir, "allowed")
	require.NoError(t, os.Mkdir(pc.allowed, 0o755))
	pub, err := os.ReadFile(filepath.Join(dir, "client.key"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(pc.allowed, "client.key"), pub, 0o644))
	return pc
}

func (pc pyCerts) secretFile(name string) string { return filepath.Join(pc.dir, name+".key_secret") }

// secureEndpoints are where each side binds on a transport.
func secureEndpoints(t *testing.T, transport string) (brookBind, libzmqBind string) {
	if transport == "ipc" {
		d := t.TempDir()
		return "ipc://" + d + "/brook", "ipc://" + d + "/libzmq"
	}
	return "tcp://127.0.0.1:0", "tcp://127.0.0.1:*"
}

// link binds one side and connects the other.
func link(t *testing.T, b *socket.Socket, py *securePeer, brookBinds bool, transport string) {
	brookEP, pyEP := secureEndpoints(t, transport)
	if brookBinds {
		require.NoError(t, b.Bind(brookEP))
		py.connect(b.LastEndpoint())
		return
	}
	require.NoError(t, b.Connect(py.bind(pyEP)))
}

// exchange sends the sample messages both ways and checks them, and
// returns the user id each server side saw.
func exchange(t *testing.T, ctx context.Context, b *socket.Socket, py *securePeer) (brookSaw, libzmqSaw string) {
	t.Helper()
	for i, m := range sampleMessages() {
		py.send(m...)
		d, err := b.RecvDelivery(ctx)
		require.NoError(t, err, "message %d from libzmq", i)
		assertSameMessage(t, m, d.Msg.Frames, i)
		brookSaw = d.Peer.UserID
	}
	for i, m := range sampleMessages() {
		require.NoError(t, b.Send(ctx, socket.NewMsg(m...)), "message %d to libzmq", i)
		got, user := py.recv()
		assertSameMessage(t, m, got, i)
		libzmqSaw = user
	}
	return brookSaw, libzmqSaw
}

// credsKey is how the ZAP handler script keys its policy: the
// credentials in hex, joined by ":".
func credsKey(creds ...[]byte) string {
	hs := make([]string, len(creds))
	for i, c := range creds {
		hs[i] = hex.EncodeToString(c)
	}
	return strings.Join(hs, ":")
}

// secureMech is one mechanism set up on either side of an interop test:
// brook's options and libzmq's configuration in each role, and the user
// id each server should see for the client.
type secureMech struct {
	name                       string
	brookServer, brookClient   func(t *testing.T) []socket.Option
	libzmqServer, libzmqClient map[string]any
	brookSees, libzmqSees      string
}

func secureMechs(pc pyCerts) []secureMech {
	admit := func(creds string, user string) map[string]any {
		return map[string]any{"default": []string{"400", ""}, "creds": map[string][]string{creds: {"200", user}}}
	}
	return []secureMech{{
		name: "CURVE",
		brookServer: func(t *testing.T) []socket.Option {
			a := auth.New()
			require.NoError(t, a.UseCertificateDir(pc.allowed))
			return []socket.Option{socket.WithCurveServer(pc.server.KeyPair(), a)}
		},
		brookClient: func(*testing.T) []socket.Option {
			return []socket.Option{socket.WithCurveClient(pc.server.Public, pc.client.KeyPair())}
		},
		libzmqServer: map[string]any{"curve_server": true, "curve_secret_cert": pc.secretFile("server"),
			"zap": admit(credsKey(pc.client.Public[:]), "py-user")},
		libzmqClient: map[string]any{"curve_secret_cert": pc.secretFile("client"), "curve_serverkey": pc.server.Public.String()},
		brookSees:    pc.client.Public.String(), // brook's authenticator names a client by its key
		libzmqSees:   "py-user",
	}, {
		name: "PLAIN",
		brookServer: func(*testing.T) []socket.Option {
			a := auth.New()
			a.SetPasswords(map[string]string{"admin": "s3cret"})
			return []socket.Option{socket.WithPlainServer(a)}
		},
		brookClient: func(*testing.T) []socket.Option {
			return []socket.Option{socket.WithPlainClient("admin", "s3cret")}
		},
		libzmqServer: map[string]any{"plain_server": true, "zap": admit(credsKey([]byte("admin"), []byte("s3cret")), "admin")},
		libzmqClient: map[string]any{"plain_username": "admin", "plain_password": "s3cret"},
		brookSees:    "admin",
		libzmqSees:   "admin",
	}}
}

// with returns a copy of m with type set.
func with(m map[string]any, typ string) map[string]any {
	out := map[string]any{"type": typ}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func TestSecureInterop(t *testing.T) {
	pc := newPyCerts(t)
	for _, m := range secureMechs(pc) {
		for _, tr := range []string{"tcp", "ipc"} {
			for _, brookServer := range []bool{true, false} {
				for _, brookBinds := range []bool{true, false} {
					name := fmt.Sprintf("%s/%s/brook-server=%v/brook-binds=%v", m.name, tr, brookServer, brookBinds)
					t.Run(name, func(t *testing.T) {
						ctx := deadline(t)
						var b *socket.Socket
						var py *securePeer
						if brookServer {
							b = newBrook(t, socket.Pair, m.brookServer(t)...)
							py = startSecure(t, with(m.libzmqClient, "PAIR"))
						} else {
							b = newBrook(t, socket.Pair, m.brookClient(t)...)
							py = startSecure(t, with(m.libzmqServer, "PAIR"))
						}
						link(t, b, py, brookBinds, tr)
						brookSaw, libzmqSaw := exchange(t, ctx, b, py)
						if brookServer {
							assert.Equal(t, m.brookSees, brookSaw)
						} else {
							assert.Equal(t, m.libzmqSees, libzmqSaw, "libzmq's ZAP handler admitted brook")
						}
					})
				}
			}
		}
	}
}

// Heartbeats travel boxed both ways: libzmq's PINGs are MESSAGE boxes
// marked as commands, and so are brook's, and their PONGs. Both peers
// ping every 20 ms and drop a silent peer after 2 s; a connection kept
// for 50 round trips, a second and more, has exchanged dozens of PINGs
// and PONGs each way (a box either side could not open would end it at
// once), and neither side may have dropped it. The timeout was 500 ms,
// and a Python peer starved of CPU at load average 11-22 on 2 cores
// went silent that long once: one side dropped the connection, and the
// PAIR message in flight with it ("nothing received within 10 s"). How
// many PINGs go each way is set by the interval, not the timeout.
func TestSecureInteropHeartbeats(t *testing.T) {
	pc := newPyCerts(t)
	m := secureMechs(pc)[0] // CURVE
	for _, brookServer := range []bool{true, false} {
		t.Run(fmt.Sprintf("brook-server=%v", brookServer), func(t *testing.T) {
			ctx := deadline(t)
			hb := socket.WithHeartbeat(20*time.Millisecond, 2*time.Second, 2*time.Second)
			opts, cfg := m.brookClient(t), m.libzmqServer
			if brookServer {
				opts, cfg = m.brookServer(t), m.libzmqClient
			}
			b := newBrook(t, socket.Pair, append(opts, hb)...)
			ev, stop := b.Monitor()
			defer stop()
			cfg = with(cfg, "PAIR")
			cfg["sockopts"] = map[string]int{"HEARTBEAT_IVL": 20, "HEARTBEAT_TIMEOUT": 2000, "HEARTBEAT_TTL": 2000}
			py := startSecure(t, cfg)
			link(t, b, py, brookServer, "tcp")
			for i := range 50 {
				py.send([]byte(fmt.Sprint(i)))
				m, err := b.Recv(ctx)
				require.NoError(t, err, "message %d", i)
				require.NoError(t, b.Send(ctx, m))
				got, _ := py.recv()
				require.Equal(t, fmt.Sprint(i), string(got[0]))
				time.Sleep(20 * time.Millisecond) // idle: the heartbeats' turn
			}
			for _, e := range py.events {
				assert.NotEqual(t, "DISCONNECTED", e.Name, "libzmq dropped the connection")
			}
		drain:
			for {
				select {
				case e := <-ev:
					assert.NotEqual(t, socket.EventDisconnected, e.Type, "brook dropped the connection: %v", e.Err)
				default:
					break drain
				}
			}
		})
	}
}

// brookFailure returns the first handshake failure a brook socket
// reports.
func brookFailure(t *testing.T, ctx context.Context, ev <-chan socket.Event) error {
	t.Helper()
	for {
		select {
		case e := <-ev:
			if e.Type == socket.EventHandshakeFailed {
				return e.Err
			}
			require.NotEqual(t, socket.EventHandshakeSucceeded, e.Type, "the handshake succeeded")
		case <-ctx.Done():
			t.Fatalf("no handshake failure: %v", ctx.Err())
		}
	}
}

// Wrong credentials, either way, end the handshake on both sides with
// an error that says so; libzmq's monitor classifies brook's refusals as
// it classifies its own.
func TestSecureInteropRefusals(t *testing.T) {
	pc := newPyCerts(t)
	pyServerCurve := func(zapDefault string) map[string]any {
		return map[string]any{"type": "PULL", "curve_server": true, "curve_secret_cert": pc.secretFile("server"),
			"zap": map[string]any{"default": []string{zapDefault, ""}, "creds": map[string][]string{}}}
	}
	brookAuth := func(t *testing.T) *auth.Authenticator {
		a := auth.New()
		require.NoError(t, a.UseCertificateDir(pc.allowed))
		a.SetPasswords(map[string]string{"admin": "s3cret"})
		return a
	}
	for _, tc := range []struct {
		name        string
		brookServes bool
		brook       func(t *testing.T) []socket.Option
		py          map[string]any
		brookSees   func(t *testing.T, err error)
		libzmqSees  []string // event name prefixes, the first one seen is checked against want
		libzmqValue int      // -1: any
	}{
		{"CURVE: brook refuses libzmq's unknown key", true,
			func(t *testing.T) []socket.Option {
				return []socket.Option{socket.WithCurveServer(pc.server.KeyPair(), brookAuth(t))}
			},
			map[string]any{"type": "PUSH", "curve_secret_cert": pc.secretFile("stranger"), "curve_serverkey": pc.server.Public.String()},
			func(t *testing.T, err error) {
				var ae *transport.AuthError
				require.ErrorAs(t, err, &ae)
				assert.Equal(t, 400, ae.Status)
				assert.Contains(t, ae.Text, pc.stranger.Public.String())
			},
			[]string{"HANDSHAKE_FAILED_AUTH"}, 400},
		{"CURVE: libzmq refuses brook's key", false,
			func(t *testing.T) []socket.Option {
				return []socket.Option{socket.WithCurveClient(pc.server.Public, pc.stranger.KeyPair())}
			},
			pyServerCurve("400"),
			func(t *testing.T, err error) {
				var ae *transport.AuthError
				require.ErrorAs(t, err, &ae)
				assert.Equal(t, transport.AuthError{Status: 400, ByPeer: true}, *ae)
			},
			[]string{"HANDSHAKE_FAILED_AUTH"}, 400},
		{"CURVE: brook has the wrong server key", false,
			func(t *testing.T) []socket.Option {
				return []socket.Option{socket.WithCurveClient(pc.stranger.Public, pc.client.KeyPair())}
			},
			pyServerCurve("200"),
			func(t *testing.T, err error) {
				assert.True(t, errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET), "libzmq closes without a word: %v", err)
				assert.ErrorContains(t, err, "not the server key we were given", "brook says what that usually means")
			},
			[]string{"HANDSHAKE_FAILED_PROTOCOL"}, -1},
		{"CURVE: libzmq has the wrong server key", true,
			func(t *testing.T) []socket.Option {
				return []socket.Option{socket.WithCurveServer(pc.server.KeyPair(), brookAuth(t))}
			},
			map[string]any{"type": "PUSH", "curve_secret_cert": pc.secretFile("client"), "curve_serverkey": pc.stranger.Public.String()},
			func(t *testing.T, err error) { assert.ErrorIs(t, err, socket.ErrDecrypt) },
			// brook's ERROR names the cause; libzmq only reports ZAP
			// codes in ERRORs, and disconnects.
			[]string{"DISCONNECTED"}, -1},
		{"PLAIN: brook refuses libzmq's password", true,
			func(t *testing.T) []socket.Option { return []socket.Option{socket.WithPlainServer(brookAuth(t))} },
			map[string]any{"type": "PUSH", "plain_username": "admin", "plain_password": "guess"},
			func(t *testing.T, err error) {
				var ae *transport.AuthError
				require.ErrorAs(t, err, &ae)
				assert.Equal(t, transport.AuthError{Status: 400, Text: "invalid user name or password"}, *ae)
			},
			[]string{"HANDSHAKE_FAILED_AUTH"}, 400},
		{"PLAIN: libzmq refuses brook's password", false,
			func(t *testing.T) []socket.Option { return []socket.Option{socket.WithPlainClient("admin", "guess")} },
			map[string]any{"type": "PULL", "plain_server": true,
				"zap": map[string]any{"default": []string{"400", ""}, "creds": map[string][]string{}}},
			func(t *testing.T, err error) { assert.ErrorIs(t, err, socket.ErrAuthFailed) },
			[]string{"HANDSHAKE_FAILED_AUTH"}, 400},
		{"mechanism mismatch", true,
			func(t *testing.T) []socket.Option {
				return []socket.Option{socket.WithCurveServer(pc.server.KeyPair(), nil)}
			},
			map[string]any{"type": "PUSH"},
			func(t *testing.T, err error) {
				// libzmq closes as soon as it has read brook's greeting,
				// often before it sends the rest of its own: brook may
				// not see its mechanism, and says what the close means.
				if !errors.Is(err, socket.ErrMechanismMismatch) {
					assert.ErrorContains(t, err, "security mechanism is not CURVE")
				}
			},
			[]string{"HANDSHAKE_FAILED_PROTOCOL"}, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := deadline(t)
			typ := socket.Push
			if tc.brookServes {
				typ = socket.Pull
			}
			b := newBrook(t, typ, tc.brook(t)...)
			ev, stop := b.Monitor()
			defer stop()
			py := startSecure(t, tc.py)
			link(t, b, py, tc.brookServes, "tcp")
			tc.brookSees(t, brookFailure(t, ctx, ev))
			e := py.waitEvent(append([]string{"HANDSHAKE_SUCCEEDED"}, tc.libzmqSees...)...)
			require.True(t, strings.HasPrefix(e.Name, tc.libzmqSees[0]), "libzmq saw %v (events %v)", e, py.events)
			if tc.libzmqValue >= 0 {
				assert.Equal(t, tc.libzmqValue, e.Value)
			}
		})
	}
}

// zapPolicy answers ZAP requests as the script's handler does: by the
// credentials, else the default.
type zapPolicy struct {
	def   [2]string
	creds map[string][2]string
}

func (p zapPolicy) script() map[string]any {
	creds := map[string][]string{}
	for k, v := range p.creds {
		creds[k] = v[:]
	}
	return map[string]any{"default": p.def[:], "creds": creds}
}

// zapRecorder is brook's side of the comparison: a handler with the same
// policy that records the requests it gets as libzmq's script does.
type zapRecorder struct {
	policy zapPolicy
	seen   chan zapSeen
}

func (r *zapRecorder) Authenticate(_ context.Context, req *transport.AuthRequest) (transport.AuthReply, error) {
	hs := make([]string, len(req.Credentials))
	for i, c := range req.Credentials {
		hs[i] = hex.EncodeToString(c)
	}
	r.seen <- zapSeen{Domain: req.Domain, Address: req.Address, Identity: hex.EncodeToString(req.Identity),
		Mechanism: req.Mechanism, Credentials: hs}
	v, ok := r.policy.creds[credsKey(req.Credentials...)]
	if !ok {
		v = r.policy.def
	}
	status := map[string]int{"200": 200, "300": 300, "400": 400, "500": 500}[v[0]]
	return transport.AuthReply{Status: status, Text: "text", UserID: v[1]}, nil
}

// zapOutcome is what one server did with one client, as the comparison
// sees it.
type zapOutcome struct {
	Request   zapSeen     // the first ZAP request, its address normalised
	Client    secureEvent // the libzmq client's first handshake outcome
	Delivered bool
	UserID    string
}

// normalise replaces the client's pid in an ipc ZAP address.
func normalise(z zapSeen, pid int) zapSeen {
	z.Address = strings.Replace(z.Address, fmt.Sprintf(":%d", pid), ":PID", 1)
	return z
}

// ZAP handling compared: the same libzmq client, the same handler
// policy, a libzmq server with a libzmq ZAP handler and a brook server
// with brook's ZAP handler (over inproc, through a ZAPClient). Both must
// send the same requests (domain, address, identity, mechanism,
// credentials) and treat each status the same way, as the client sees
// it: 200 admits with the user id, 300 closes silently (libzmq only at
// its handshake timeout, brook at once), 400 and 500 refuse with the
// code.
func TestZAPHandlerComparedWithLibzmq(t *testing.T) {
	pc := newPyCerts(t)
	type mechCase struct {
		name   string
		client map[string]any
		pyServ map[string]any
		brook  func(a transport.Authenticator) []socket.Option
		creds  string
	}
	mechs := []mechCase{
		{"NULL", map[string]any{}, map[string]any{},
			func(a transport.Authenticator) []socket.Option { return []socket.Option{socket.WithAuthenticator(a)} }, ""},
		{"PLAIN", map[string]any{"plain_username": "admin", "plain_password": "s3cret"}, map[string]any{"plain_server": true},
			func(a transport.Authenticator) []socket.Option { return []socket.Option{socket.WithPlainServer(a)} },
			credsKey([]byte("admin"), []byte("s3cret"))},
		{"CURVE", map[string]any{"curve_secret_cert": pc.secretFile("client"), "curve_serverkey": pc.server.Public.String()},
			map[string]any{"curve_server": true, "curve_secret_cert": pc.secretFile("server")},
			func(a transport.Authenticator) []socket.Option {
				return []socket.Option{socket.WithCurveServer(pc.server.KeyPair(), a)}
			},
			credsKey(pc.client.Public[:])},
	}
	merge := func(ms ...map[string]any) map[string]any {
		out := map[string]any{}
		for _, m := range ms {
			for k, v := range m {
				out[k] = v
			}
		}
		return out
	}
	for _, tr := range []string{"tcp", "ipc"} {
		for _, m := range mechs {
			for _, status := range []string{"200", "300", "400", "500"} {
				t.Run(fmt.Sprintf("%s/%s/%s", tr, m.name, status), func(t *testing.T) {
					policy := zapPolicy{def: [2]string{"400", ""}, creds: map[string][2]string{m.creds: {status, "user-" + status}}}
					client := merge(m.client, map[string]any{"type": "PUSH"})
					server := merge(m.pyServ, map[string]any{"type": "PULL", "zap_domain": "cmp", "routing_id": "srv-id", "zap": policy.script()})
					if status == "300" {
						// libzmq does not close at once on a 300: the
						// connection waits for its handshake timeout.
						server["handshake_ivl"] = 500
					}

					// libzmq server, libzmq ZAP handler.
					var want zapOutcome
					{
						srv := startSecure(t, server)
						_, pyEP := secureEndpoints(t, tr)
						ep := srv.bind(pyEP)
						cli := startSecure(t, client)
						cli.connect(ep)
						// A refused client's pipe may be gone already.
						sent := cli.trySend(time.Second, []byte("hello"))
						require.True(t, sent || status != "200", "an admitted client can send")
						want.Client = cli.waitEvent("HANDSHAKE_", "DISCONNECTED")
						want.Request = normalise(srv.waitZAP(1)[0], cli.pid)
						if status == "200" {
							_, want.UserID = srv.recv()
							want.Delivered = true
						}
					}

					// brook server, brook ZAP handler.
					var got zapOutcome
					{
						ctx := deadline(t)
						ns := inproc.NewNamespace()
						rec := &zapRecorder{policy: policy, seen: make(chan zapSeen, 100)}
						h, err := auth.ServeZAP(rec, ns, nil)
						require.NoError(t, err)
						defer h.Close()
						zc, err := auth.NewZAPClient(ns)
						require.NoError(t, err)
						b := newBrook(t, socket.Pull, append(m.brook(zc), socket.WithZAPDomain("cmp"), socket.WithRoutingID([]byte("srv-id")))...)
						defer zc.Close() // after the socket (deferred calls run first, t.Cleanup later)
						defer b.Close()
						brookEP, _ := secureEndpoints(t, tr)
						require.NoError(t, b.Bind(brookEP))
						cli := startSecure(t, client)
						cli.connect(b.LastEndpoint())
						// A refused client's pipe may be gone already.
						sent := cli.trySend(time.Second, []byte("hello"))
						require.True(t, sent || status != "200", "an admitted client can send")
						got.Client = cli.waitEvent("HANDSHAKE_", "DISCONNECTED")
						select {
						case z := <-rec.seen:
							got.Request = normalise(z, cli.pid)
						case <-ctx.Done():
							t.Fatal("brook's ZAP handler got no request")
						}
						if status == "200" {
							d, err := b.RecvDelivery(ctx)
							require.NoError(t, err)
							got.Delivered, got.UserID = true, d.Peer.UserID
						}
					}
					if status == "300" {
						// The client sees the connection end without an
						// ERROR; the errno it reports depends on how.
						assert.Equal(t, want.Client.Name, got.Client.Name)
						want.Client, got.Client = secureEvent{}, secureEvent{}
					}
					assert.Equal(t, want, got)
				})
			}
		}
	}
}
