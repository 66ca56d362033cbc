package inproc

import (
	"context"
	"fmt"
	"sync"

	"github.com/brookmq/brook/transport"
)

// Namespace is a set of bound inproc names: Dial finds only Listeners of
// its own Namespace. It is safe for concurrent use. The zero value is not
// usable; call NewNamespace.
type Namespace struct {
	mu      sync.Mutex
	bound   map[string]*Listener
	waiting map[string]*bindWait // names that Dials are waiting for
}

// bindWait is closed by the Listen that binds its name; n counts the
// Dials waiting on it, so the last one to give up removes it.
type bindWait struct {
	ch chan struct{}
	n  int
}

// NewNamespace returns an empty namespace.
func NewNamespace() *Namespace {
	return &Namespace{
		bound:   make(map[string]*Listener),
		waiting: make(map[string]*bindWait),
	}
}

// defaultNamespace is the one piece of process-wide state in brook's
// transports, created on first use. inproc names are meant to be shared
// by every socket of a program (libzmq scopes them to a context, and a
// program has one context almost always); brook has no context object, so
// the process is the scope unless a socket is given its own Namespace.
var defaultNamespace = sync.OnceValue(NewNamespace)

// Default returns the process-wide namespace that sockets use unless they
// are given another.
func Default() *Namespace { return defaultNamespace() }

// Bound reports whether name is bound right now. It is a snapshot for
// diagnostics; Dial does not need it.
func (ns *Namespace) Bound(name string) bool {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	return ns.bound[name] != nil
}

// listen binds name and wakes the Dials waiting for it.
func (ns *Namespace) listen(name string) (*Listener, error) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if ns.bound[name] != nil {
		return nil, fmt.Errorf("inproc: bind %q: %w", name, transport.ErrAddrInUse)
	}
	l := newListener(ns, name)
	ns.bound[name] = l
	if w := ns.waiting[name]; w != nil {
		close(w.ch)
		delete(ns.waiting, name)
	}
	return l, nil
}

// unbind frees l's name (if l still holds it).
func (ns *Namespace) unbind(l *Listener) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if ns.bound[l.name] == l {
		delete(ns.bound, l.name)
	}
}

// dial connects to the Listener bound to name, waiting for one to be
// bound until ctx ends. A Listener closed between lookup and connect is
// treated as never bound: dial waits for the next one.
func (ns *Namespace) dial(ctx context.Context, name string) (*Conn, error) {
	for {
		ns.mu.Lock()
		if l := ns.bound[name]; l != nil {
			ns.mu.Unlock()
			if c := l.connect(); c != nil {
				return c, nil
			}
			continue // closed meanwhile; it has already unbound itself
		}
		if err := ctx.Err(); err != nil {
			ns.mu.Unlock()
			return nil, noEndpoint(name, err)
		}
		w := ns.waiting[name]
		if w == nil {
			w = &bindWait{ch: make(chan struct{})}
			ns.waiting[name] = w
		}
		w.n++
		ns.mu.Unlock()

		select {
		case <-w.ch:
			// Bound: the binder removed w; look the Listener up again.
		case <-ctx.Done():
			ns.mu.Lock()
			w.n--
			if w.n == 0 && ns.waiting[name] == w {
				delete(ns.waiting, name)
			}
			ns.mu.Unlock()
			return nil, noEndpoint(name, ctx.Err())
		}
	}
}

// noEndpoint is the error of a Dial whose context ended before its name
// was bound; it matches both transport.ErrNoEndpoint and ctxErr.
func noEndpoint(name string, ctxErr error) error {
	return fmt.Errorf("inproc: dial %q: %w (%w)", name, transport.ErrNoEndpoint, ctxErr)
}
