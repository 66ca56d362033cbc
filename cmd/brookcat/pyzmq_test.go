package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/brookmq/brook/internal/pyzmq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests put brookcat (a real process) in front of libzmq 4.3
// through pyzmq. Without pyzmq they skip, except under CI where they fail.

// pyLine reads the peer's next JSON line.
func pyLine(t *testing.T, py *pyzmq.Peer) []string {
	t.Helper()
	var v []string
	line := py.Line(time.Minute)
	require.NoError(t, json.Unmarshal([]byte(line), &v), line)
	return v
}

func TestPyzmqPull(t *testing.T) {
	pyzmq.Require(t)
	py := pyzmq.Start(t, pyzmq.Prelude+`
s = ctx.socket(zmq.PULL)
s.bind("tcp://127.0.0.1:*")
emit("bound", s.getsockopt(zmq.LAST_ENDPOINT).decode())
for _ in range(2):
    emit(*[f.decode() for f in s.recv_multipart()])
`)
	ep := pyLine(t, py)[1]
	p := startCat(t, strings.NewReader("hello\tworld\nbye\n"), nil, "PUSH", ep)
	assert.Equal(t, []string{"hello", "world"}, pyLine(t, py))
	assert.Equal(t, []string{"bye"}, pyLine(t, py))
	assert.Equal(t, 0, p.wait(), p.stderr.String())
	py.Wait(time.Minute)
}

// A libzmq XPUB publishes once brookcat's subscription arrives.
func TestPyzmqSub(t *testing.T) {
	pyzmq.Require(t)
	py := pyzmq.Start(t, pyzmq.Prelude+`
s = ctx.socket(zmq.XPUB)
s.bind("tcp://127.0.0.1:*")
emit("bound", s.getsockopt(zmq.LAST_ENDPOINT).decode())
emit("subscription", s.recv().hex())
for topic, body in [(b"t.a", b"1"), (b"other", b"2"), (b"t.b", b"3")]:
    s.send_multipart([topic, body])
emit("sent")
`)
	ep := pyLine(t, py)[1]
	p := startCat(t, nil, nil, "-s", "t.", "-n", "2", "SUB", ep)
	assert.Equal(t, []string{"subscription", "01742e"}, pyLine(t, py))
	assert.Equal(t, 0, p.wait(), p.stderr.String())
	assert.Equal(t, "t.a\t1\nt.b\t3\n", p.stdout.String())
}

func TestPyzmqReqToRep(t *testing.T) {
	pyzmq.Require(t)
	py := pyzmq.Start(t, pyzmq.Prelude+`
s = ctx.socket(zmq.REP)
s.bind("tcp://127.0.0.1:*")
emit("bound", s.getsockopt(zmq.LAST_ENDPOINT).decode())
for _ in range(2):
    s.send_multipart([f.upper() for f in s.recv_multipart()])
`)
	ep := pyLine(t, py)[1]
	p := startCat(t, strings.NewReader("abc\nde\tfg\n"), nil, "REQ", ep)
	assert.Equal(t, 0, p.wait(), p.stderr.String())
	assert.Equal(t, "ABC\nDE\tFG\n", p.stdout.String())
	py.Wait(time.Minute)
}

// A libzmq DEALER with an identity talks to a brookcat ROUTER: the JSON
// output shows the id and a binary frame, and the input's first frame
// routes the reply back.
func TestPyzmqDealerToRouter(t *testing.T) {
	pyzmq.Require(t)
	p := startCat(t, strings.NewReader("py\tpong\n"), nil, "-wait-peers", "1", "-n", "1", "-out", "json", "ROUTER", "@tcp://127.0.0.1:0")
	ep := p.endpoint()
	py := pyzmq.Start(t, pyzmq.Prelude+`
s = ctx.socket(zmq.DEALER)
s.setsockopt(zmq.IDENTITY, b"py")
s.connect(sys.argv[1])
s.send_multipart([b"\x00\xff", b"data"])
emit(*[f.decode() for f in s.recv_multipart()])
`, ep)
	assert.Equal(t, []string{"pong"}, pyLine(t, py))
	assert.Equal(t, 0, p.wait(), p.stderr.String())
	assert.Equal(t, `{"frames":["py",{"hex":"00ff"},"data"]}`+"\n", p.stdout.String())
	py.Wait(time.Minute)
}

// pyzmqCerts has pyzmq's zmq.auth write a server certificate to dir and a
// client certificate to dir/clients (CZMQ's format), and returns the
// public keys in Z85.
func pyzmqCerts(t *testing.T, dir string) (server, client string) {
	t.Helper()
	py := pyzmq.Start(t, pyzmq.Prelude+`
import os, zmq.auth
d = sys.argv[1]
os.makedirs(os.path.join(d, "clients"))
spub, _ = zmq.auth.create_certificates(d, "server")
cpub, _ = zmq.auth.create_certificates(os.path.join(d, "clients"), "client")
emit(zmq.auth.load_certificate(spub)[0].decode(), zmq.auth.load_certificate(cpub)[0].decode())
`, dir)
	keys := pyLine(t, py)
	py.Wait(time.Minute)
	return keys[0], keys[1]
}

// brookcat, a CURVE client with pyzmq's certificate files, sends to a
// libzmq CURVE server.
func TestPyzmqCurveServer(t *testing.T) {
	pyzmq.Require(t)
	dir := t.TempDir()
	pyzmqCerts(t, dir)
	py := pyzmq.Start(t, pyzmq.Prelude+`
import os, zmq.auth
d = sys.argv[1]
_, secret = zmq.auth.load_certificate(os.path.join(d, "server.key_secret"))
s = ctx.socket(zmq.PULL)
s.curve_server = True
s.curve_secretkey = secret
s.bind("tcp://127.0.0.1:*")
emit("bound", s.getsockopt(zmq.LAST_ENDPOINT).decode())
emit(*[f.decode() for f in s.recv_multipart()])
`, dir)
	ep := pyLine(t, py)[1]
	p := startCat(t, strings.NewReader("over\tcurve\n"), nil, "-curve-server-key", dir+"/server.key", "-curve-cert", dir+"/clients/client.key", "PUSH", ep)
	assert.Equal(t, []string{"over", "curve"}, pyLine(t, py))
	assert.Equal(t, 0, p.wait(), p.stderr.String())
	py.Wait(time.Minute)
}

// A libzmq CURVE client on brookcat's allow-list (pyzmq's certificate
// directory) is admitted; its key is the user in the JSON output. (A REQ
// that waits for its reply: see the report of a PUSH that closes at
// once.)
func TestPyzmqCurveClient(t *testing.T) {
	pyzmq.Require(t)
	dir := t.TempDir()
	_, clientKey := pyzmqCerts(t, dir)
	p := startCat(t, nil, nil, "-echo", "-n", "1", "-out", "json", "-curve-server", dir+"/server.key", "-curve-allow", dir+"/clients", "REP", "@tcp://127.0.0.1:0")
	ep := p.endpoint()
	py := pyzmq.Start(t, pyzmq.Prelude+`
import os, zmq.auth
d = sys.argv[1]
spub, _ = zmq.auth.load_certificate(os.path.join(d, "server.key"))
cpub, csec = zmq.auth.load_certificate(os.path.join(d, "clients", "client.key_secret"))
s = ctx.socket(zmq.REQ)
s.curve_serverkey, s.curve_publickey, s.curve_secretkey = spub, cpub, csec
s.connect(sys.argv[2])
s.send_multipart([b"from", b"libzmq"])
emit(*[f.decode() for f in s.recv_multipart()])
`, dir, ep)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("pyzmq stderr:\n%s", py.Stderr())
		}
	})
	assert.Equal(t, []string{"from", "libzmq"}, pyLine(t, py))
	assert.Equal(t, 0, p.wait(), p.stderr.String())
	assert.Equal(t, `{"frames":["from","libzmq"],"user":"`+clientKey+`"}`+"\n", p.stdout.String())
	py.Wait(time.Minute)
}
