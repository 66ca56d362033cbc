package socket

import (
	"fmt"
	"slices"

	"github.com/brookmq/brook/patterns"
)

// Type-specific options. Each one belongs to the socket types it names;
// New refuses it on any other type with ErrBadOption, as libzmq's
// zmq_setsockopt refuses with EINVAL. See patterns.Config for the exact
// semantics.

// patternOption returns an option named name that only types may take.
func patternOption(name string, types []Type, f func(*patterns.Config)) Option {
	return func(o *options) error {
		o.patternOpts = append(o.patternOpts, f)
		o.typeOnly = append(o.typeOnly, typeOnly{name: name, types: types})
		return nil
	}
}

// typeOnly records an option given to New that only some types take.
type typeOnly struct {
	name  string
	types []Type
}

// checkFor refuses options that socket type t does not take.
func (o *options) checkFor(t Type) error {
	for _, r := range o.typeOnly {
		if !slices.Contains(r.types, t) {
			return fmt.Errorf("%w: %s is for %v sockets, not %s", ErrBadOption, r.name, r.types, t)
		}
	}
	return nil
}

var (
	xpubOnly   = []Type{XPub}
	reqOnly    = []Type{Req}
	routerOnly = []Type{Router}
)

// WithXPubVerbose makes an XPUB pass every subscription message to the
// application, not only the first one for each topic (libzmq
// ZMQ_XPUB_VERBOSE).
func WithXPubVerbose(on bool) Option {
	return patternOption("WithXPubVerbose", xpubOnly, func(c *patterns.Config) { c.XPubVerbose = on })
}

// WithXPubVerboser makes an XPUB pass every subscription and every
// cancellation to the application (libzmq ZMQ_XPUB_VERBOSER); it implies
// WithXPubVerbose.
func WithXPubVerboser(on bool) Option {
	return patternOption("WithXPubVerboser", xpubOnly, func(c *patterns.Config) { c.XPubVerboser = on })
}

// WithXPubManual hands an XPUB's subscriptions to the application: every
// subscription message is passed on by Recv and none is applied until the
// application calls Subscribe or Unsubscribe on the XPUB, which act on
// the subscriber whose message Recv returned last (libzmq
// ZMQ_XPUB_MANUAL).
func WithXPubManual(on bool) Option {
	return patternOption("WithXPubManual", xpubOnly, func(c *patterns.Config) { c.XPubManual = on })
}

// WithXPubWelcome makes an XPUB send msg to each subscriber as soon as
// it connects (libzmq ZMQ_XPUB_WELCOME_MSG). A SUB receives it only if it
// subscribed to a prefix of it, as with libzmq. A nil msg turns it off.
func WithXPubWelcome(msg []byte) Option {
	var welcome []byte
	if msg != nil {
		welcome = append([]byte{}, msg...)
	}
	return patternOption("WithXPubWelcome", xpubOnly, func(c *patterns.Config) { c.XPubWelcome = welcome })
}

// WithReqRelaxed lets a REQ send a new request before it received the
// reply to the previous one; replies to abandoned requests are dropped
// and counted (libzmq ZMQ_REQ_RELAXED). Combine it with WithReqCorrelate
// so that a late reply from the same peer cannot pass for the new one.
func WithReqRelaxed(on bool) Option {
	return patternOption("WithReqRelaxed", reqOnly, func(c *patterns.Config) { c.ReqRelaxed = on })
}

// WithReqCorrelate makes a REQ prefix each request with a 4-byte request
// id and accept only replies that carry the id of the request outstanding
// (libzmq ZMQ_REQ_CORRELATE). The REP (or ROUTER) side needs no change:
// the id is part of the envelope it echoes.
func WithReqCorrelate(on bool) Option {
	return patternOption("WithReqCorrelate", reqOnly, func(c *patterns.Config) { c.ReqCorrelate = on })
}

// WithRouterMandatory makes a ROUTER's Send fail with ErrHostUnreachable
// for a routing id no connected peer has, and wait (until ctx ends) when
// that peer's queue is full, instead of dropping the message (libzmq
// ZMQ_ROUTER_MANDATORY with a blocking send).
func WithRouterMandatory(on bool) Option {
	return patternOption("WithRouterMandatory", routerOnly, func(c *patterns.Config) { c.RouterMandatory = on })
}

// WithRouterHandover lets a peer connecting with a routing id that
// another connected peer holds take it over (libzmq ZMQ_ROUTER_HANDOVER).
// Without it, such a peer is refused (EventRejected), as libzmq does.
func WithRouterHandover(on bool) Option {
	return patternOption("WithRouterHandover", routerOnly, func(c *patterns.Config) { c.RouterHandover = on })
}
