package inproc

import (
	"context"
	"fmt"
	"strings"

	"github.com/brookmq/brook/transport"
)

// Scheme is the endpoint scheme inproc serves.
const Scheme = "inproc"

// Transport dials and binds inproc names in one Namespace. It implements
// transport.Transport and is safe for concurrent use.
type Transport struct {
	ns *Namespace
}

// New returns a transport over ns; a nil ns means Default().
func New(ns *Namespace) *Transport {
	if ns == nil {
		ns = Default()
	}
	return &Transport{ns: ns}
}

// Schemes returns ["inproc"].
func (t *Transport) Schemes() []string { return []string{Scheme} }

// Dial connects to the name in ep. If the name is bound, Dial returns at
// once, whatever the state of ctx. If not, it waits until a Listener binds
// the name or ctx ends; in the latter case the error matches both
// transport.ErrNoEndpoint and ctx's error. So a Dial with a context that
// is already done is a non-blocking attempt, which a socket can use to
// report a delayed connect before it waits.
func (t *Transport) Dial(ctx context.Context, ep transport.Endpoint) (transport.Conn, error) {
	name, err := nameOf(ep)
	if err != nil {
		return nil, err
	}
	c, err := t.ns.dial(ctx, name)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Listen binds the name in ep. It fails with an error matching
// transport.ErrAddrInUse when the name is bound already.
func (t *Transport) Listen(ep transport.Endpoint) (transport.Listener, error) {
	name, err := nameOf(ep)
	if err != nil {
		return nil, err
	}
	l, err := t.ns.listen(name)
	if err != nil {
		return nil, err
	}
	return l, nil
}

// nameOf checks that ep is an inproc endpoint and returns its name, which
// is matched exactly (case-sensitively), as in libzmq.
func nameOf(ep transport.Endpoint) (string, error) {
	if !strings.EqualFold(ep.Scheme, Scheme) {
		return "", fmt.Errorf("%w: inproc cannot serve %q", transport.ErrUnknownScheme, ep.String())
	}
	if ep.Address == "" {
		return "", fmt.Errorf("%w %q: missing name", transport.ErrBadEndpoint, ep.String())
	}
	return ep.Address, nil
}

var _ transport.Transport = (*Transport)(nil)
