package interop

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/brookmq/brook/internal/pyzmq"
)

// libzmqScript holds one libzmq socket (type and integer options from
// argv: TYPE NAME=VALUE ...) and serves one JSON request per stdin line,
// answering with one JSON list per line: ["ok", ...], ["timeout"] or
// ["error", why]. It starts with ["ready", libzmq version, pid].
//
// "record" receives without pause and appends each message's first frame
// plus a newline to a file with one write(2) each, so what the file
// holds is exactly what libzmq delivered, even if the process is killed
// (SIGKILL) a moment later. It answers ["mark", n] once n messages
// arrived, and ["ok", count] when the message whose first frame is
// "until" arrives.
//
// It prints ["unavailable", why] and exits when it cannot import zmq, so
// checking for pyzmq costs no extra process.
const libzmqScript = `
import json, os, sys

def emit(*values):
    print(json.dumps(list(values)), flush=True)

try:
    import zmq
except Exception as e:
    emit("unavailable", repr(e))
    sys.exit(0)

def hexed(frames):
    return [bytes(f).hex() for f in frames]

ctx = zmq.Context()

def main():
    sock = ctx.socket(getattr(zmq, sys.argv[1]))
    sock.setsockopt(zmq.LINGER, 1000)
    for arg in sys.argv[2:]:
        name, value = arg.split("=", 1)
        sock.setsockopt(getattr(zmq, name), int(value))
    emit("ready", zmq.zmq_version(), os.getpid())
    poller = zmq.Poller()
    poller.register(sock, zmq.POLLIN)
    for line in sys.stdin:
        req = json.loads(line)
        op = req["op"]
        try:
            if op == "bind":
                sock.bind(req["ep"])
                emit("ok", sock.getsockopt(zmq.LAST_ENDPOINT).decode())
            elif op == "connect":
                sock.connect(req["ep"])
                emit("ok")
            elif op == "send":
                sock.setsockopt(zmq.SNDTIMEO, req["ms"])
                sock.send_multipart([bytes.fromhex(h) for h in req["f"]])
                emit("ok")
            elif op == "recv":
                if not poller.poll(req["ms"]):
                    emit("timeout")
                else:
                    emit("ok", hexed(sock.recv_multipart()))
            elif op == "record":
                until = bytes.fromhex(req["until"])
                fd = os.open(req["path"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                n = 0
                try:
                    while True:
                        if not poller.poll(req["ms"]):
                            emit("error", "record idle for %d ms after %d messages" % (req["ms"], n))
                            break
                        frames = sock.recv_multipart()
                        os.write(fd, frames[0] + b"\n")
                        n += 1
                        if n == req["mark"]:
                            emit("mark", n)
                        if frames[0] == until:
                            emit("ok", n)
                            break
                finally:
                    os.close(fd)
            elif op == "quit":
                sock.close()
                ctx.term()
                emit("ok")
                return
            else:
                emit("error", "unknown op %r" % (op,))
        except zmq.Again:
            emit("timeout")
        except Exception as e:
            emit("error", "%s: %r" % (op, e))

main()
`

// peerWait bounds each request to a libzmq peer.
const peerWait = 10 * time.Second

// startWait bounds how long a new Python process may take to say it is
// ready. Starting one (an interpreter, the zmq module, libzmq's threads)
// is the step a loaded machine slows most: with the race-enabled test
// binaries of several packages running on two cores, a start was seen
// to print nothing for over 10 s. It only bounds a failure, so it is
// the test's whole timeout.
const startWait = testTimeout

// libzmqPeer is one libzmq socket in a Python process. Its methods fail
// the test on error, so they must be called from the test's goroutine.
type libzmqPeer struct {
	t       testing.TB
	py      *pyzmq.Peer
	pid     int
	version string
}

// startLibzmq starts a libzmq socket of sockType ("PUSH", "PULL", ...)
// with integer options such as "HEARTBEAT_IVL=100" (milliseconds where
// libzmq takes durations). The test fails in CI, and skips elsewhere,
// when pyzmq is missing (pyzmq.Require decides and says how to install
// it); the process is killed when the test ends.
func startLibzmq(t testing.TB, sockType string, sockopts ...string) *libzmqPeer {
	t.Helper()
	if _, err := exec.LookPath(pyzmq.Python); err != nil {
		pyzmq.Require(t)
	}
	py := pyzmq.Start(t, libzmqScript, append([]string{sockType}, sockopts...)...)
	z := &libzmqPeer{t: t, py: py}
	r := z.answer(startWait, "start")
	if decodeString(t, r[0]) == "unavailable" {
		pyzmq.Require(t)
		t.Fatalf("libzmq peer: %s cannot import zmq: %s", pyzmq.Python, r[1])
	}
	if len(r) != 3 {
		t.Fatalf("libzmq peer: bad hello %v", r)
	}
	z.version = decodeString(t, r[1])
	pid, err := strconv.Atoi(string(r[2]))
	if err != nil {
		t.Fatalf("libzmq peer: bad pid %s", r[2])
	}
	z.pid = pid
	return z
}

// bind binds the libzmq socket and returns the endpoint it reports
// (wildcard port resolved: bind "tcp://127.0.0.1:*").
func (z *libzmqPeer) bind(endpoint string) string {
	z.t.Helper()
	r := z.call("bind", map[string]any{"ep": endpoint})
	return decodeString(z.t, r[1])
}

// connect connects the libzmq socket (asynchronously, as libzmq does).
func (z *libzmqPeer) connect(endpoint string) {
	z.t.Helper()
	z.call("connect", map[string]any{"ep": endpoint})
}

// send sends one multipart message, failing if libzmq cannot queue it
// within peerWait.
func (z *libzmqPeer) send(frames ...[]byte) {
	z.t.Helper()
	hs := make([]string, len(frames))
	for i, f := range frames {
		hs[i] = hex.EncodeToString(f)
	}
	z.call("send", map[string]any{"f": hs, "ms": peerWait.Milliseconds()})
}

// recv receives one multipart message, failing if none arrives within
// peerWait.
func (z *libzmqPeer) recv() [][]byte {
	z.t.Helper()
	frames, ok := z.tryRecv(peerWait)
	if !ok {
		z.t.Fatalf("libzmq peer: nothing received within %v; stderr:\n%s", peerWait, z.py.Stderr())
	}
	return frames
}

// tryRecv receives one message if one arrives within wait.
func (z *libzmqPeer) tryRecv(wait time.Duration) ([][]byte, bool) {
	z.t.Helper()
	z.request("recv", map[string]any{"ms": wait.Milliseconds()})
	r := z.answer(wait+peerWait, "recv")
	status := decodeString(z.t, r[0])
	if status == "timeout" {
		return nil, false
	}
	z.check("recv", status, r)
	var hs []string
	if err := json.Unmarshal(r[1], &hs); err != nil {
		z.t.Fatalf("libzmq peer: bad frames %s: %v", r[1], err)
	}
	frames := make([][]byte, len(hs))
	for i, h := range hs {
		f, err := hex.DecodeString(h)
		if err != nil {
			z.t.Fatalf("libzmq peer: bad frame %q: %v", h, err)
		}
		frames[i] = f
	}
	return frames, true
}

// record starts recording (see libzmqScript): it returns at once; the
// peer serves no other request until awaitRecorded.
func (z *libzmqPeer) record(path string, until []byte, mark int, idle time.Duration) {
	z.t.Helper()
	z.request("record", map[string]any{
		"path": path, "until": hex.EncodeToString(until), "mark": mark, "ms": idle.Milliseconds(),
	})
}

// awaitMark waits until a recording reached its mark.
func (z *libzmqPeer) awaitMark(wait time.Duration) {
	z.t.Helper()
	r := z.answer(wait, "record")
	z.check("record", decodeString(z.t, r[0]), r, "mark")
}

// awaitRecorded waits until a recording received its last message and
// returns how many it received.
func (z *libzmqPeer) awaitRecorded(wait time.Duration) int {
	z.t.Helper()
	r := z.answer(wait, "record")
	z.check("record", decodeString(z.t, r[0]), r)
	n, err := strconv.Atoi(string(r[1]))
	if err != nil {
		z.t.Fatalf("libzmq peer: bad count %s", r[1])
	}
	return n
}

// kill ends the process with SIGKILL, as a crash would (libzmq flushes
// and closes nothing), and waits until it has exited, so its sockets are
// gone when kill returns. It uses a pidfd: no race with pid reuse, and
// the exit is a signal, not a guess. No request may follow.
func (z *libzmqPeer) kill() {
	z.t.Helper()
	fd, err := unix.PidfdOpen(z.pid, 0)
	if err != nil {
		z.t.Fatalf("libzmq peer %d: pidfd_open: %v", z.pid, err)
	}
	defer unix.Close(fd)
	if err := unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0); err != nil {
		z.t.Fatalf("killing libzmq peer %d: %v", z.pid, err)
	}
	// A pidfd becomes readable when its process has terminated.
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, int(testTimeout.Milliseconds()))
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || n == 0 {
			z.t.Fatalf("libzmq peer %d still alive %v after SIGKILL: %v", z.pid, testTimeout, err)
		}
		return
	}
}

func (z *libzmqPeer) call(op string, args map[string]any) []json.RawMessage {
	z.t.Helper()
	z.request(op, args)
	r := z.answer(2*peerWait, op)
	z.check(op, decodeString(z.t, r[0]), r)
	return r
}

func (z *libzmqPeer) request(op string, args map[string]any) {
	z.t.Helper()
	req := map[string]any{"op": op}
	for k, v := range args {
		req[k] = v
	}
	b, err := json.Marshal(req)
	if err != nil {
		z.t.Fatalf("libzmq peer: %v", err)
	}
	z.py.Send(string(b))
}

func (z *libzmqPeer) answer(wait time.Duration, op string) []json.RawMessage {
	z.t.Helper()
	line := z.py.Line(wait)
	var r []json.RawMessage
	if err := json.Unmarshal([]byte(line), &r); err != nil || len(r) == 0 {
		z.t.Fatalf("libzmq peer: bad answer to %s: %q", op, line)
	}
	return r
}

// check fails the test unless status is want (default "ok").
func (z *libzmqPeer) check(op, status string, r []json.RawMessage, want ...string) {
	z.t.Helper()
	w := "ok"
	if len(want) > 0 {
		w = want[0]
	}
	if status != w {
		z.t.Fatalf("libzmq peer: %s answered %s; stderr:\n%s", op, fmt.Sprint(rawStrings(r)), z.py.Stderr())
	}
}

func rawStrings(r []json.RawMessage) []string {
	s := make([]string, len(r))
	for i, v := range r {
		s[i] = string(v)
	}
	return s
}

func decodeString(t testing.TB, raw json.RawMessage) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("libzmq peer: %s is not a string", raw)
	}
	return s
}
