package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/brookmq/brook/socket"
	"github.com/brookmq/brook/transport"
)

// errRefused: a peer at a connected endpoint refused the handshake, or
// failed it in a way retrying cannot mend (wrong keys or credentials,
// another security mechanism). It ends the run with exitError.
var errRefused = errors.New("handshake refused")

// isRefusal reports whether a handshake failed over security: a refusal
// by either side's authentication, a CURVE box that did not open, a
// mechanism mismatch, or an ERROR command from the peer.
func isRefusal(err error) bool {
	var pe *transport.PeerError
	return errors.Is(err, socket.ErrAuthFailed) || errors.Is(err, socket.ErrDecrypt) ||
		errors.Is(err, socket.ErrMechanismMismatch) || errors.As(err, &pe)
}

// handshakeWatch reports failed handshakes. On a connected endpoint a
// refusal ends the run (the socket would retry forever with the same
// credentials); other failures there are noted when the socket is
// secured, since a libzmq server just closes the connection of a CURVE
// client with the wrong server key. On a bound endpoint the socket
// refused a peer, or a peer went away mid-handshake: noted, and the run
// goes on. Each distinct failure is noted once; repeats (a peer that
// keeps reconnecting) are counted and summed up at the end.
type handshakeWatch struct {
	c         *cat
	refused   func(error)
	connected map[string]bool // endpoints connected, as given to Connect

	mu      sync.Mutex
	seen    map[string]bool // failures noted, by text without the remote address
	repeats int
}

func newHandshakeWatch(c *cat, refused func(error)) *handshakeWatch {
	w := &handshakeWatch{c: c, refused: refused, connected: map[string]bool{}, seen: map[string]bool{}}
	for _, e := range c.cfg.endpoints {
		if !e.bind {
			w.connected[e.ep] = true
		}
	}
	return w
}

// failed handles one EventHandshakeFailed.
func (w *handshakeWatch) failed(e socket.Event) {
	refusal := isRefusal(e.Err)
	if w.connected[e.Endpoint] && refusal {
		w.refused(fmt.Errorf("%w by %s: %w", errRefused, e.Endpoint, e.Err))
		return
	}
	if !refusal && w.c.sec.mechanism == "" {
		return // a NULL socket's peer that went away mid-handshake: retried quietly
	}
	key := e.Endpoint + " " + strings.ReplaceAll(e.Err.Error(), e.Remote, "")
	w.mu.Lock()
	first := !w.seen[key]
	w.seen[key] = true
	if !first {
		w.repeats++
	}
	w.mu.Unlock()
	if !first {
		return
	}
	switch {
	case w.connected[e.Endpoint]:
		w.c.note("handshake with %s failed, retrying: %v", e.Endpoint, e.Err)
	case refusal:
		w.c.note("refused a peer from %s on %s: %v", e.Remote, e.Endpoint, e.Err)
	default:
		w.c.note("handshake with a peer from %s on %s failed: %v", e.Remote, e.Endpoint, e.Err)
	}
}

// summary notes how many failures were not shown.
func (w *handshakeWatch) summary() {
	w.mu.Lock()
	n := w.repeats
	w.mu.Unlock()
	if n > 0 {
		w.c.note("%d more handshakes failed the same ways as those noted", n)
	}
}

// noteSecurity says on stderr what the socket's security is.
func (c *cat) noteSecurity() {
	s := c.sec
	switch {
	case s.mechanism == "":
		return
	case s.mechanism == "CURVE" && s.server && s.allowAny:
		c.note("CURVE server, public key %s; any client key is admitted (no -curve-allow)", s.publicKey)
	case s.mechanism == "CURVE" && s.server:
		c.note("CURVE server, public key %s; clients admitted from %s", s.publicKey, c.cfg.sec.curveAllow)
	case s.mechanism == "CURVE" && s.ephemeral:
		c.note("CURVE client with a key pair made for this run, public key %s", s.publicKey)
	case s.mechanism == "CURVE":
		c.note("CURVE client, public key %s", s.publicKey)
	}
	for _, e := range c.cfg.endpoints {
		if strings.HasPrefix(e.ep, "inproc://") {
			c.note("%s is not secured: inproc connections never leave the process", e.ep)
		}
	}
}

// runKeygen is brookcat -keygen PATH.
func runKeygen(path string, stdout, stderr io.Writer) int {
	pub, err := keygen(path)
	if err != nil {
		fmt.Fprintf(stderr, "brookcat: -keygen: %v\n", err)
		return exitError
	}
	fmt.Fprintln(stdout, pub)
	fmt.Fprintf(stderr, "brookcat: wrote %s (public certificate, share it) and %s (secret, keep it)\n", path, path+"_secret")
	return exitOK
}
