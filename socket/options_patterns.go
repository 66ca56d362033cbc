package socket

import "github.com/brookmq/brook/patterns"

// Type-specific options. Each one is accepted by every socket type and
// acts only on the types it names (as the matching libzmq socket options
// do); see patterns.Config for the exact semantics.

func patternOption(f func(*patterns.Config)) Option {
	return func(o *options) error {
		o.patternOpts = append(o.patternOpts, f)
		return nil
	}
}

// WithXPubVerbose makes an XPUB pass every subscription message to the
// application, not only the first one for each topic (libzmq
// ZMQ_XPUB_VERBOSE).
func WithXPubVerbose(on bool) Option {
	return patternOption(func(c *patterns.Config) { c.XPubVerbose = on })
}

// WithXPubVerboser makes an XPUB pass every subscription and every
// cancellation to the application (libzmq ZMQ_XPUB_VERBOSER); it implies
// WithXPubVerbose.
func WithXPubVerboser(on bool) Option {
	return patternOption(func(c *patterns.Config) { c.XPubVerboser = on })
}

// WithXPubManual hands an XPUB's subscriptions to the application: every
// subscription message is passed on by Recv and none is applied until the
// application calls Subscribe or Unsubscribe on the XPUB, which act on
// the subscriber whose message Recv returned last (libzmq
// ZMQ_XPUB_MANUAL).
func WithXPubManual(on bool) Option {
	return patternOption(func(c *patterns.Config) { c.XPubManual = on })
}

// WithXPubWelcome makes an XPUB send msg to each subscriber as soon as
// it connects (libzmq ZMQ_XPUB_WELCOME_MSG). A SUB receives it only if it
// subscribed to a prefix of it, as with libzmq. A nil msg turns it off.
func WithXPubWelcome(msg []byte) Option {
	var welcome []byte
	if msg != nil {
		welcome = append([]byte{}, msg...)
	}
	return patternOption(func(c *patterns.Config) { c.XPubWelcome = welcome })
}

// WithReqRelaxed lets a REQ send a new request before it received the
// reply to the previous one; replies to abandoned requests are dropped
// and counted (libzmq ZMQ_REQ_RELAXED). Combine it with WithReqCorrelate
// so that a late reply from the same peer cannot pass for the new one.
func WithReqRelaxed(on bool) Option {
	return patternOption(func(c *patterns.Config) { c.ReqRelaxed = on })
}

// WithReqCorrelate makes a REQ prefix each request with a 4-byte request
// id and accept only replies that carry the id of the request outstanding
// (libzmq ZMQ_REQ_CORRELATE). The REP (or ROUTER) side needs no change:
// the id is part of the envelope it echoes.
func WithReqCorrelate(on bool) Option {
	return patternOption(func(c *patterns.Config) { c.ReqCorrelate = on })
}

// WithRouterMandatory makes a ROUTER's Send fail with ErrHostUnreachable
// for a routing id no connected peer has, and wait (until ctx ends) when
// that peer's queue is full, instead of dropping the message (libzmq
// ZMQ_ROUTER_MANDATORY with a blocking send).
func WithRouterMandatory(on bool) Option {
	return patternOption(func(c *patterns.Config) { c.RouterMandatory = on })
}

// WithRouterHandover lets a peer connecting with a routing id that
// another connected peer holds take it over (libzmq ZMQ_ROUTER_HANDOVER).
// Without it, such a peer is refused (EventRejected), as libzmq does.
func WithRouterHandover(on bool) Option {
	return patternOption(func(c *patterns.Config) { c.RouterHandover = on })
}
