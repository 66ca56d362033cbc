package interop

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/brookmq/brook/internal/pyzmq"
)

// patScript hosts any number of named libzmq sockets in one Python
// process and serves one JSON request per stdin line, answering one JSON
// list per line: ["ok", ...], ["timeout"] or ["error", why]. Requests
// name the socket they act on ("s"). Besides plain socket calls it can
// run zmq.proxy between two of its sockets on a thread, and serve a REP
// socket on a thread (each reply is "re:" + the request's first frame,
// then the request's other frames).
const patScript = pyzmq.Prelude + `
import threading

socks = {}
threads = []

def opt_value(v):
    return bytes.fromhex(v[1:]) if isinstance(v, str) and v.startswith("x") else int(v)

def serve_rep(sock):
    try:
        while True:
            frames = sock.recv_multipart()
            sock.send_multipart([b"re:" + frames[0]] + frames[1:])
    except zmq.ContextTerminated:
        sock.close(0)

def run_proxy(front, back):
    try:
        zmq.proxy(front, back)
    except zmq.ContextTerminated:
        front.close(0)
        back.close(0)

def main():
    emit("ready", zmq.zmq_version())
    for line in sys.stdin:
        req = json.loads(line)
        op = req["op"]
        try:
            s = socks.get(req.get("s"))
            if op == "new":
                s = ctx.socket(getattr(zmq, req["type"]))
                s.setsockopt(zmq.LINGER, 0)
                for name, v in req.get("opts", {}).items():
                    s.setsockopt(getattr(zmq, name), opt_value(v))
                socks[req["s"]] = s
                emit("ok")
            elif op == "bind":
                s.bind(req["ep"])
                emit("ok", s.getsockopt(zmq.LAST_ENDPOINT).decode())
            elif op == "connect":
                s.connect(req["ep"])
                emit("ok")
            elif op == "set":
                s.setsockopt(getattr(zmq, req["name"]), opt_value(req["v"]))
                emit("ok")
            elif op == "send":
                s.setsockopt(zmq.SNDTIMEO, req["ms"])
                s.send_multipart([bytes.fromhex(h) for h in req["f"]])
                emit("ok")
            elif op == "recv":
                if not s.poll(req["ms"], zmq.POLLIN):
                    emit("timeout")
                else:
                    emit("ok", hexed(s.recv_multipart()))
            elif op == "close":
                s.close(0)
                del socks[req["s"]]
                emit("ok")
            elif op == "serve":
                del socks[req["s"]]
                th = threading.Thread(target=serve_rep, args=(s,), daemon=True)
                th.start()
                threads.append(th)
                emit("ok")
            elif op == "proxy":
                front, back = socks.pop(req["front"]), socks.pop(req["back"])
                th = threading.Thread(target=run_proxy, args=(front, back), daemon=True)
                th.start()
                threads.append(th)
                emit("ok")
            else:
                emit("error", "unknown op %r" % (op,))
        except zmq.Again:
            emit("timeout")
        except Exception as e:
            emit("error", "%s: %r" % (op, e))
    for s in socks.values():
        s.close(0)
    ctx.term()
    for th in threads:
        th.join()

main()
`

// patRequirePython fails the test when pyzmq is missing and the CI
// environment variable is set to anything, and skips it elsewhere with
// the reason.
func patRequirePython(t testing.TB) {
	t.Helper()
	if _, err := pyzmq.Available(); err != nil {
		msg := fmt.Sprintf("libzmq pattern interop needs %s with pyzmq: %v (apt-get install -y python3-zmq)", pyzmq.Python, err)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// patPy is one Python process holding libzmq sockets. Its methods fail
// the test on error and must be called from the test's goroutine.
type patPy struct {
	t  testing.TB
	py *pyzmq.Peer
	n  int // sockets created, for unique names
}

// patLibzmq starts a Python process for libzmq sockets; it is ended when
// the test ends.
func patLibzmq(t testing.TB) *patPy {
	t.Helper()
	patRequirePython(t)
	p := &patPy{t: t, py: pyzmq.Start(t, patScript)}
	p.check("start", p.answer("start", startWait-peerWait)) // answer adds peerWait
	return p
}

func (p *patPy) do(op, sock string, args map[string]any, wait time.Duration) []json.RawMessage {
	p.t.Helper()
	r := p.try(op, sock, args, wait)
	p.check(op, r)
	return r
}

// try sends a request and returns the answer, whatever its status.
func (p *patPy) try(op, sock string, args map[string]any, wait time.Duration) []json.RawMessage {
	p.t.Helper()
	req := map[string]any{"op": op, "s": sock}
	for k, v := range args {
		req[k] = v
	}
	b, err := json.Marshal(req)
	if err != nil {
		p.t.Fatal(err)
	}
	p.py.Send(string(b))
	return p.answer(op, wait)
}

func (p *patPy) answer(op string, wait time.Duration) []json.RawMessage {
	p.t.Helper()
	line := p.py.Line(wait + peerWait)
	var r []json.RawMessage
	if err := json.Unmarshal([]byte(line), &r); err != nil || len(r) == 0 {
		p.t.Fatalf("libzmq: bad answer to %s: %q", op, line)
	}
	return r
}

// check fails the test unless r is a success (or a timeout, which the
// caller inspects).
func (p *patPy) check(op string, r []json.RawMessage) {
	p.t.Helper()
	switch s := decodeString(p.t, r[0]); s {
	case "ok", "ready", "timeout":
	default:
		p.t.Fatalf("libzmq: %s answered %v; stderr:\n%s", op, rawStrings(r), p.py.Stderr())
	}
}

// patHexOpt marks a bytes option value (ROUTING_ID, SUBSCRIBE) for the
// script; integer options are given as ints.
func patHexOpt(b []byte) string { return "x" + hex.EncodeToString(b) }

// patZ is one libzmq socket in a patPy process.
type patZ struct {
	p    *patPy
	name string
	typ  string
}

// socket creates a libzmq socket of type typ ("SUB", ...) with options
// (ints, or patHexOpt values).
func (p *patPy) socket(typ string, opts map[string]any) *patZ {
	p.t.Helper()
	p.n++
	z := &patZ{p: p, name: fmt.Sprintf("%s-%d", typ, p.n), typ: typ}
	if opts == nil {
		opts = map[string]any{}
	}
	p.do("new", z.name, map[string]any{"type": typ, "opts": opts}, 0)
	return z
}

// bind binds and returns the resolved endpoint ("tcp://127.0.0.1:*"
// picks a port).
func (z *patZ) bind(ep string) string {
	z.p.t.Helper()
	return decodeString(z.p.t, z.p.do("bind", z.name, map[string]any{"ep": ep}, 0)[1])
}

// rebind binds an endpoint a closed libzmq socket of the same process
// held: libzmq closes listeners asynchronously (on its I/O thread, which
// a loaded machine may not run for a while), so "address in use" is
// retried until peerWait has passed.
func (z *patZ) rebind(ep string) string {
	z.p.t.Helper()
	for deadline := time.Now().Add(peerWait); ; {
		r := z.p.try("bind", z.name, map[string]any{"ep": ep}, 0)
		if decodeString(z.p.t, r[0]) == "ok" || time.Now().After(deadline) ||
			!strings.Contains(string(r[len(r)-1]), "Address already in use") {
			z.p.check("bind", r)
			return decodeString(z.p.t, r[1])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (z *patZ) connect(ep string) {
	z.p.t.Helper()
	z.p.do("connect", z.name, map[string]any{"ep": ep}, 0)
}

func (z *patZ) set(name string, v any) {
	z.p.t.Helper()
	z.p.do("set", z.name, map[string]any{"name": name, "v": v}, 0)
}

func (z *patZ) subscribe(topic string) { z.set("SUBSCRIBE", patHexOpt([]byte(topic))) }

func (z *patZ) unsubscribe(topic string) { z.set("UNSUBSCRIBE", patHexOpt([]byte(topic))) }

func (z *patZ) send(frames ...[]byte) {
	z.p.t.Helper()
	hs := make([]string, len(frames))
	for i, f := range frames {
		hs[i] = hex.EncodeToString(f)
	}
	r := z.p.do("send", z.name, map[string]any{"f": hs, "ms": peerWait.Milliseconds()}, peerWait)
	if decodeString(z.p.t, r[0]) != "ok" {
		z.p.t.Fatalf("libzmq %s: send timed out", z.typ)
	}
}

func (z *patZ) sendStrings(frames ...string) {
	z.p.t.Helper()
	b := make([][]byte, len(frames))
	for i, f := range frames {
		b[i] = []byte(f)
	}
	z.send(b...)
}

// tryRecv receives one message if one arrives within wait.
func (z *patZ) tryRecv(wait time.Duration) ([][]byte, bool) {
	z.p.t.Helper()
	r := z.p.do("recv", z.name, map[string]any{"ms": wait.Milliseconds()}, wait)
	if decodeString(z.p.t, r[0]) == "timeout" {
		return nil, false
	}
	var hs []string
	if err := json.Unmarshal(r[1], &hs); err != nil {
		z.p.t.Fatalf("libzmq: bad frames %s", r[1])
	}
	frames := make([][]byte, len(hs))
	for i, h := range hs {
		f, err := hex.DecodeString(h)
		if err != nil {
			z.p.t.Fatalf("libzmq: bad frame %q", h)
		}
		frames[i] = f
	}
	return frames, true
}

// recv receives one message, failing if none comes within peerWait.
func (z *patZ) recv() [][]byte {
	z.p.t.Helper()
	m, ok := z.tryRecv(peerWait)
	if !ok {
		z.p.t.Fatalf("libzmq %s: nothing received within %v", z.typ, peerWait)
	}
	return m
}

// recvStrings is recv with the frames as strings.
func (z *patZ) recvStrings() []string {
	z.p.t.Helper()
	return patStrings(z.recv())
}

func (z *patZ) close() {
	z.p.t.Helper()
	z.p.do("close", z.name, nil, 0)
}

// serve hands a REP socket to a thread that answers every request with
// "re:" + its first frame; the socket takes no more requests from here.
func (z *patZ) serve() {
	z.p.t.Helper()
	z.p.do("serve", z.name, nil, 0)
}

// proxy runs zmq.proxy(front, back) on a thread of the process.
func (p *patPy) proxy(front, back *patZ) {
	p.t.Helper()
	p.do("proxy", "", map[string]any{"front": front.name, "back": back.name}, 0)
}

// patStrings renders frames as strings.
func patStrings(frames [][]byte) []string {
	out := make([]string, len(frames))
	for i, f := range frames {
		out[i] = string(f)
	}
	return out
}
