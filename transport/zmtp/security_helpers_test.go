package zmtp

import (
	"bytes"
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

// testKeyPair is a long-term CURVE key pair for tests.
type testKeyPair struct{ public, secret [keySize]byte }

func newTestKeys(t testing.TB) testKeyPair {
	t.Helper()
	pub, sec, err := newKeyPair()
	require.NoError(t, err)
	return testKeyPair{pub, sec}
}

// recordingAuth is an Authenticator that records its requests and
// answers with reply (or err).
type recordingAuth struct {
	mu    sync.Mutex
	reqs  []transport.AuthRequest
	reply func(*transport.AuthRequest) (transport.AuthReply, error)
}

func (a *recordingAuth) Authenticate(_ context.Context, req *transport.AuthRequest) (transport.AuthReply, error) {
	a.mu.Lock()
	cp := *req
	cp.Credentials = nil
	for _, c := range req.Credentials {
		cp.Credentials = append(cp.Credentials, bytes.Clone(c))
	}
	a.reqs = append(a.reqs, cp)
	a.mu.Unlock()
	return a.reply(req)
}

func (a *recordingAuth) requests() []transport.AuthRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]transport.AuthRequest(nil), a.reqs...)
}

// answer returns an authenticator that always answers reply.
func answer(reply transport.AuthReply) *recordingAuth {
	return &recordingAuth{reply: func(*transport.AuthRequest) (transport.AuthReply, error) { return reply, nil }}
}

// newKeyPair returns a fresh key pair.
func newKeyPair() (public, secret [keySize]byte, err error) {
	k, err := generateDHKey()
	if err != nil {
		return public, secret, err
	}
	return k.public(), k.secret(), nil
}

// boxKey is the box key of a peer's public key and a secret key.
func boxKey(peer, secret *[keySize]byte) ([keySize]byte, error) {
	k, err := newDHKey(*secret)
	if err != nil {
		return [keySize]byte{}, err
	}
	return k.boxKey(peer)
}

// clientHello returns the HELLO frame of a new client of the server.
func clientHello(t testing.TB, server [keySize]byte) []byte {
	t.Helper()
	mech, err := newCurveClient(CurveClient{ServerKey: server, SecretKey: newTestKeys(t).secret})
	require.NoError(t, err)
	hello, err := mech.Start(nil)
	require.NoError(t, err)
	return hello
}

// curveServerFor returns a CURVE server for keys, failing the test on error.
func curveServerFor(t testing.TB, keys testKeyPair, a transport.Authenticator, domain string) *CurveServer {
	t.Helper()
	s, err := NewCurveServer(keys.secret, a, domain)
	require.NoError(t, err)
	return s
}

// curveConfigs returns a client and a server Config: PUSH (CURVE client)
// to PULL (CURVE server).
func curveConfigs(t testing.TB, server, client testKeyPair, a transport.Authenticator) (cli, srv *transport.Config) {
	t.Helper()
	cli = &transport.Config{SocketType: "PUSH", Security: CurveClient{ServerKey: server.public, SecretKey: client.secret}}
	srv = &transport.Config{SocketType: "PULL", Identity: []byte("srv-id"), Security: curveServerFor(t, server, a, "test-domain")}
	return cli, srv
}

// curvePair returns a handshaken CURVE client (PUSH) and server (PULL)
// over loopback TCP.
func curvePair(t testing.TB, opts Options) (cli, srv *Conn) {
	t.Helper()
	server, client := newTestKeys(t), newTestKeys(t)
	cfgC, cfgS := curveConfigs(t, server, client, nil)
	cli, srv = tcpConns(t, opts)
	mustHandshake(t, cli, srv, cfgC, cfgS)
	return cli, srv
}

// rawCurveClient is a CURVE client driven by hand over a raw peer, for
// sending what a real client never would.
type rawCurveClient struct {
	*rawPeer
	mech     *curveClient
	tx       *messageBox // boxes what the client sends
	rx       *messageBox
	hello    []byte // the HELLO frame it sent
	initiate []byte // the INITIATE frame it sent
}

// rawCurveHandshake runs the client side of a CURVE handshake as a PUSH
// against server, which handshakes with srvCfg on its own goroutine; it
// returns the raw client and the server's handshake result.
func rawCurveHandshake(t testing.TB, keys CurveClient, srvCfg *transport.Config) (*rawCurveClient, *Conn, <-chan hsResult) {
	t.Helper()
	srv, p := newRawPeer(t, Options{})
	res := make(chan hsResult, 1)
	go func() {
		info, err := srv.Handshake(context.Background(), srvCfg)
		res <- hsResult{info, err}
	}()
	mech, err := newCurveClient(keys)
	require.NoError(t, err)
	meta := appendMetadata(nil, []property{{propSocketType, []byte("PUSH")}})
	hello, err := mech.Start(meta)
	require.NoError(t, err)
	rc := &rawCurveClient{rawPeer: p, mech: mech, hello: hello}
	p.send(rawGreeting(3, 1, mechanismCurve), hello)
	p.readN(greetingSize)
	name, data := p.readCommand()
	require.Equal(t, cmdWelcome, name)
	rc.initiate, _, _, err = mech.Step(name, data)
	require.NoError(t, err)
	p.send(rc.initiate)
	name, data = p.readCommand()
	require.Equal(t, cmdReady, name)
	_, _, done, err := mech.Step(name, data)
	require.NoError(t, err)
	require.True(t, done)
	rc.tx, rc.rx = mech.messageBoxes()
	return rc, srv, res
}

// boxed returns frames as a client with box would send them: each in a
// MESSAGE with the box's next nonce.
func boxed(t testing.TB, box *messageBox, frames ...[]byte) []byte {
	t.Helper()
	var plain []byte
	for _, f := range frames {
		plain = append(plain, f...)
	}
	var out bytes.Buffer
	s := &sealer{box: box}
	require.NoError(t, s.write(&out, plain, nil))
	return out.Bytes()
}
