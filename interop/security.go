package interop

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/brookmq/brook/internal/pyzmq"
)

// secureScript holds one libzmq socket set up for PLAIN or CURVE from a
// JSON configuration (argv[1]), with a monitor and, when asked, a ZAP
// handler of its own, and serves one JSON request per stdin line like
// libzmqScript. Besides the answers it prints, at any time:
//
//	["event", name, value]      a monitor event of the socket
//	["zap", request]            a request its ZAP handler received
//
// Configuration keys: type; curve_server, curve_secret_cert (a pyzmq
// certificate file to take the socket's key pair from), curve_serverkey
// (Z85); plain_server, plain_username, plain_password; zap_domain;
// routing_id; handshake_ivl (ms); sockopts: {NAME: int}; zap: {"default": [status, user id], "creds": {hex of the
// credentials joined by ":": [status, user id]}} to bind a ZAP handler.
// "certs": {"dir": d, "names": [...]} creates pyzmq certificates first
// (zmq.auth.create_certificates) and reports ["certs"].
//
// Requests: bind, connect, send (hex frames), recv (ms; answers frames
// and the message's User-Id property), quit.
const secureScript = `
import json, os, sys, threading
def emit(*values):
    with lock:
        print(json.dumps(list(values)), flush=True)
lock = threading.Lock()
try:
    import zmq, zmq.auth
    from zmq.utils.monitor import recv_monitor_message
except Exception as e:
    emit("unavailable", repr(e))
    sys.exit(0)

cfg = json.loads(sys.argv[1])
ctx = zmq.Context()
if "certs" in cfg:
    for name in cfg["certs"]["names"]:
        zmq.auth.create_certificates(cfg["certs"]["dir"], name)
    emit("certs")
    sys.exit(0)

def zap_handler(sock, policy):
    while True:
        try:
            m = sock.recv_multipart()
        except zmq.ZMQError:
            return
        version, rid, domain, address, identity, mech = m[:6]
        creds = m[6:]
        emit("zap", {"domain": domain.decode(), "address": address.decode(), "identity": identity.hex(),
                     "mechanism": mech.decode(), "credentials": [c.hex() for c in creds]})
        status, user = policy["creds"].get(":".join(c.hex() for c in creds), policy["default"])
        sock.send_multipart([b"1.0", rid, status.encode(), b"text", user.encode() if status == "200" else b"", b""])

if "zap" in cfg:
    zs = ctx.socket(zmq.REP)
    zs.linger = 0
    zs.bind("inproc://zeromq.zap.01")
    threading.Thread(target=zap_handler, args=(zs, cfg["zap"]), daemon=True).start()

sock = ctx.socket(getattr(zmq, cfg["type"]))
sock.linger = 0
if cfg.get("routing_id"):
    sock.routing_id = cfg["routing_id"].encode()
if cfg.get("zap_domain"):
    sock.zap_domain = cfg["zap_domain"].encode()
if cfg.get("handshake_ivl"):
    sock.setsockopt(zmq.HANDSHAKE_IVL, cfg["handshake_ivl"])
for name, value in cfg.get("sockopts", {}).items():
    sock.setsockopt(getattr(zmq, name), value)
if cfg.get("curve_secret_cert"):
    pub, sec = zmq.auth.load_certificate(cfg["curve_secret_cert"])
    sock.curve_publickey, sock.curve_secretkey = pub, sec
if cfg.get("curve_server"):
    sock.curve_server = True
if cfg.get("curve_serverkey"):
    sock.curve_serverkey = cfg["curve_serverkey"].encode()
if cfg.get("plain_server"):
    sock.plain_server = True
if "plain_username" in cfg:
    sock.plain_username = cfg["plain_username"].encode()
    sock.plain_password = cfg["plain_password"].encode()

mon = sock.get_monitor_socket()
def watch():
    while True:
        try:
            e = recv_monitor_message(mon)
        except Exception:
            return
        emit("event", zmq.Event(e["event"]).name, e["value"])
threading.Thread(target=watch, daemon=True).start()
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
                frames = sock.recv_multipart(copy=False)
                try:
                    user = frames[-1].get("User-Id") or ""
                except zmq.ZMQError:
                    user = ""  # no ZAP handler: no User-Id
                emit("ok", [bytes(f.bytes).hex() for f in frames], user)
        elif op == "quit":
            emit("ok")
            break
    except zmq.Again:
        emit("timeout")
    except Exception as e:
        emit("error", "%s: %r" % (op, e))
sock.close()
mon.close()
`

// securePeer is a libzmq socket with a security mechanism, in a Python
// process. Its methods fail the test on error and must be called from the
// test's goroutine.
type securePeer struct {
	t      testing.TB
	py     *pyzmq.Peer
	pid    int
	events []secureEvent // monitor events read so far, in order
	cursor int           // events before this one were returned by waitEvent
	zaps   []zapSeen     // ZAP requests its handler got, in order
}

// secureEvent is a libzmq monitor event: its name (HANDSHAKE_SUCCEEDED,
// HANDSHAKE_FAILED_AUTH, ...) and value (the ZAP status for
// HANDSHAKE_FAILED_AUTH).
type secureEvent struct {
	Name  string
	Value int
}

// zapSeen is a ZAP request as a handler received it; binary fields in
// hex.
type zapSeen struct {
	Domain      string   `json:"domain"`
	Address     string   `json:"address"`
	Identity    string   `json:"identity"`
	Mechanism   string   `json:"mechanism"`
	Credentials []string `json:"credentials"`
}

// startSecure starts a libzmq socket configured by cfg (see
// secureScript).
func startSecure(t testing.TB, cfg map[string]any) *securePeer {
	t.Helper()
	if _, err := exec.LookPath(pyzmq.Python); err != nil {
		pyzmq.Require(t)
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := &securePeer{t: t, py: pyzmq.Start(t, secureScript, string(b))}
	r := p.next(startWait)
	switch r[0] {
	case "ready":
		p.pid = int(r[2].(float64))
	case "certs":
	case "unavailable":
		pyzmq.Require(t)
		t.Fatalf("libzmq peer: %s cannot import zmq: %v", pyzmq.Python, r[1:])
	default:
		t.Fatalf("libzmq peer: bad hello %v", r)
	}
	return p
}

// pyzmqCertificates has pyzmq write a certificate pair (name.key and
// name.key_secret) for each name into dir.
func pyzmqCertificates(t testing.TB, dir string, names ...string) {
	t.Helper()
	startSecure(t, map[string]any{"certs": map[string]any{"dir": dir, "names": names}})
}

// pump reads one line: events and ZAP requests are recorded (and nil
// returned), anything else is returned.
func (p *securePeer) pump(wait time.Duration) []any {
	p.t.Helper()
	line := p.py.Line(wait)
	var r []any
	if err := json.Unmarshal([]byte(line), &r); err != nil || len(r) == 0 {
		p.t.Fatalf("libzmq peer: bad line %q", line)
	}
	switch r[0] {
	case "event":
		p.events = append(p.events, secureEvent{Name: r[1].(string), Value: int(r[2].(float64))})
		return nil
	case "zap":
		b, _ := json.Marshal(r[1])
		var z zapSeen
		if err := json.Unmarshal(b, &z); err != nil {
			p.t.Fatalf("libzmq peer: bad ZAP line %q", line)
		}
		p.zaps = append(p.zaps, z)
		return nil
	}
	return r
}

// next returns the next line that is not an event or a ZAP request.
func (p *securePeer) next(wait time.Duration) []any {
	p.t.Helper()
	for {
		if r := p.pump(wait); r != nil {
			return r
		}
	}
}

// waitFor reads events and ZAP requests until done says so.
func (p *securePeer) waitFor(what string, done func() bool) {
	p.t.Helper()
	deadline := time.Now().Add(peerWait)
	for !done() {
		left := time.Until(deadline)
		if left <= 0 {
			p.t.Fatalf("libzmq peer: no %s; events %v", what, p.events)
		}
		if r := p.pump(left); r != nil {
			p.t.Fatalf("libzmq peer: unexpected line %v while waiting for %s", r, what)
		}
	}
}

// call sends a request and returns its answer, failing on an error.
func (p *securePeer) call(op string, args map[string]any) []any {
	p.t.Helper()
	if args == nil {
		args = map[string]any{}
	}
	args["op"] = op
	b, _ := json.Marshal(args)
	p.py.Send(string(b))
	r := p.next(peerWait + time.Duration(toInt(args["ms"]))*time.Millisecond)
	if r[0] == "error" {
		p.t.Fatalf("libzmq peer: %s: %v; stderr:\n%s", op, r[1], p.py.Stderr())
	}
	return r
}

func toInt(v any) int64 {
	if n, ok := v.(int64); ok {
		return n
	}
	return 0
}

func (p *securePeer) bind(ep string) string {
	return p.call("bind", map[string]any{"ep": ep})[1].(string)
}

func (p *securePeer) connect(ep string) { p.call("connect", map[string]any{"ep": ep}) }

func (p *securePeer) send(frames ...[]byte) {
	p.t.Helper()
	hs := make([]string, len(frames))
	for i, f := range frames {
		hs[i] = hex.EncodeToString(f)
	}
	if r := p.call("send", map[string]any{"f": hs, "ms": peerWait.Milliseconds()}); r[0] != "ok" {
		p.t.Fatalf("libzmq peer: send: %v", r)
	}
}

// trySend sends one message if libzmq can queue it within wait, and
// reports whether it did.
func (p *securePeer) trySend(wait time.Duration, frames ...[]byte) bool {
	p.t.Helper()
	hs := make([]string, len(frames))
	for i, f := range frames {
		hs[i] = hex.EncodeToString(f)
	}
	return p.call("send", map[string]any{"f": hs, "ms": wait.Milliseconds()})[0] == "ok"
}

// recv receives one message and the User-Id libzmq attached to it.
func (p *securePeer) recv() (frames [][]byte, userID string) {
	p.t.Helper()
	r := p.call("recv", map[string]any{"ms": peerWait.Milliseconds()})
	if r[0] != "ok" {
		p.t.Fatalf("libzmq peer: nothing received within %v: %v; events %v", peerWait, r, p.events)
	}
	for _, h := range r[1].([]any) {
		f, err := hex.DecodeString(h.(string))
		if err != nil {
			p.t.Fatal(err)
		}
		frames = append(frames, f)
	}
	return frames, r[2].(string)
}

// waitEvent returns the first monitor event after the last one it
// returned whose name starts with one of prefixes, reading lines until
// it arrives.
func (p *securePeer) waitEvent(prefixes ...string) secureEvent {
	p.t.Helper()
	var found secureEvent
	p.waitFor(fmt.Sprintf("%v event", prefixes), func() bool {
		for ; p.cursor < len(p.events); p.cursor++ {
			for _, pre := range prefixes {
				if strings.HasPrefix(p.events[p.cursor].Name, pre) {
					found = p.events[p.cursor]
					p.cursor++
					return true
				}
			}
		}
		return false
	})
	return found
}

// waitZAP reads lines until the ZAP handler has seen n requests.
func (p *securePeer) waitZAP(n int) []zapSeen {
	p.t.Helper()
	p.waitFor(fmt.Sprintf("%d ZAP requests", n), func() bool { return len(p.zaps) >= n })
	return p.zaps
}
