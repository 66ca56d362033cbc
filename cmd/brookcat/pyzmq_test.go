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
