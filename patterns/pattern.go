// Package patterns holds brook's routing state machines: which peer gets
// each outbound message and how inbound messages are queued for the
// application, one file per socket family, with ZeroMQ's semantics, and
// the table of socket types (types.go) that every layer consults.
//
// A Pattern never touches a network connection. It sees peers as Pipes,
// which the socket layer implements (a bounded outbound queue per peer
// drained by a writer goroutine), and it is driven by three callers: the
// application (Sender.Send, Receiver.Recv), each pipe's reader goroutine
// (Inbound) and the socket's connection management (Attach, Detach and
// the optional PeerWatcher, Admitter and Waker). Package patterntest
// drives patterns over fake pipes.
//
// The required part of a pattern is small (Pattern); everything else is
// an optional capability discovered with one type assertion, the way
// io.WriterTo is: Sender, Receiver, Subscriber, PeerWatcher, Admitter,
// Waker.
package patterns

import (
	"context"
	"errors"
	"fmt"

	"github.com/brookmq/brook/transport"
)

// Errors returned by patterns, matched with errors.Is.
var (
	// ErrState means the call is not allowed in the socket's current state
	// (for example a REQ sending twice without receiving the reply).
	ErrState = errors.New("brook: operation not valid in the socket's current state")
	// ErrNotSupported means the socket type cannot do this (for example
	// Recv on a PUSH socket).
	ErrNotSupported = errors.New("brook: operation not supported by this socket type")
	// ErrHostUnreachable means a ROUTER in mandatory mode was asked to
	// send to a routing id it has no ready peer for.
	ErrHostUnreachable = errors.New("brook: host unreachable")
	// ErrBadMsg means the message has the wrong shape for the socket type
	// (for example no routing id frame on a ROUTER).
	ErrBadMsg = errors.New("brook: malformed message for this socket type")
)

// Msg is a multipart message (an alias of transport.Msg).
type Msg = transport.Msg

// Pipe is the pattern's view of one peer: a bounded outbound queue.
// Its methods are safe for concurrent use and never block.
type Pipe interface {
	// ID is unique among the pipes of a socket and never reused.
	ID() uint64
	// Peer is what the peer announced in its last handshake (zero before
	// the first connection of a connecting pipe).
	Peer() transport.PeerInfo
	// TrySend queues m unless the pipe is at its send high-water mark or
	// closed; it reports whether m was taken.
	TrySend(m Msg) bool
	// SendSubscription queues a subscription (or its cancellation) ahead
	// of the data high-water mark: subscriptions are never dropped.
	SendSubscription(topic []byte, subscribe bool)
	// ResetSubscriptions discards queued, unsent subscription commands
	// and queues the given topics as subscriptions in front of everything
	// else: the full set a SUB resends after each (re)connection.
	ResetSubscriptions(topics [][]byte)
}

// Tag is an opaque value the socket attaches to an inbound message: the
// pattern keeps it with the message and hands it back from Receiver.Recv
// (journaled sockets find a message's delivery state by it). Zero means
// none. A tagged message is never held back at the receive high-water
// mark: the socket bounds tagged messages itself (a journaled sender puts
// at most its window in flight), and their connection must keep being
// read, for the commands that travel with them.
type Tag uint64

// Received is one message for the application, with the pipe it came
// from (nil for a message the pattern made itself with no peer behind
// it) and the Tag given to Inbound with it.
type Received struct {
	Msg  Msg
	Pipe Pipe
	Tag  Tag
}

// Pattern is the required part of a socket type's routing state machine.
// Its methods are safe for concurrent use.
type Pattern interface {
	// Attach adds a pipe. Connecting pipes may be attached before their
	// first connection (ZeroMQ's IMMEDIATE=0) unless the type's TypeInfo
	// says AttachOnHandshake, so Peer may still be zero.
	Attach(p Pipe)
	// Detach removes p for good. Messages still queued in p are the
	// socket's to account for; inbound messages already queued from p
	// stay deliverable.
	Detach(p Pipe)
	// Inbound takes one message read from p, with its tag. It blocks
	// while p's share of the receive queue is full (backpressure), until
	// ctx ends; a tagged message does not block (see Tag). A message the pattern cannot accept is dropped and
	// reported through Config.OnDrop.
	Inbound(ctx context.Context, p Pipe, m Msg, tag Tag) error
	// Close makes every blocked and later Send and Recv fail with an
	// error matching transport.ErrClosed.
	Close()
}

// Sender is implemented by patterns whose application sends (all but
// PULL and SUB).
type Sender interface {
	// Send routes one message from the application, blocking (until ctx
	// ends) where ZeroMQ blocks.
	Send(ctx context.Context, m Msg) error
}

// Receiver is implemented by patterns whose application receives (all
// but PUSH and PUB).
type Receiver interface {
	// Recv returns the next message for the application.
	Recv(ctx context.Context) (Received, error)
	// Unread is the number of received messages the application has not
	// taken yet.
	Unread() int
}

// Subscriber is implemented by patterns with subscriptions: SUB and XSUB
// (topic prefixes sent to publishers) and XPUB (manual mode).
type Subscriber interface {
	Subscribe(topic []byte) error
	Unsubscribe(topic []byte) error
}

// PeerWatcher is implemented by patterns that act on connections coming
// and going, not only on pipes being attached and detached.
type PeerWatcher interface {
	// Connected is called after each successful handshake on p.
	Connected(p Pipe)
	// Disconnected is called when p's connection is lost; p stays
	// attached (a connecting pipe reconnects) until Detach.
	Disconnected(p Pipe)
}

// Admitter is implemented by patterns that refuse some peers: PAIR admits
// one peer at a time, ROUTER refuses a routing id already in use. The
// socket asks before attaching a pipe and closes the connection of a
// refused one.
type Admitter interface {
	Accepts(p Pipe) bool
}

// Waker is implemented by patterns that wait for room in their pipes:
// the socket calls Writable when p's queue drops below its high-water
// mark after a refused TrySend.
type Waker interface {
	Writable(p Pipe)
}

// Disconnecter is implemented by pipes whose current connection a
// pattern may end: a ROUTER with RouterHandover ends the connection of
// the peer whose routing id a newcomer took over, as libzmq does. The
// pipe then goes through Disconnected (and Detach) as usual. A pipe that
// does not implement it keeps its connection under a generated id.
type Disconnecter interface {
	DisconnectPeer()
}

// DropReason says why a message was dropped.
type DropReason int

// Drop reasons. Every dropped message is reported with one of them.
const (
	// DropHWM: the peer's pipe was at its high-water mark (PUB, ROUTER).
	DropHWM DropReason = iota + 1
	// DropNoPeer: no peer matched (PUB with no subscriber, ROUTER with an
	// unknown routing id).
	DropNoPeer
	// DropPeerGone: queued for a peer that disconnected for good.
	DropPeerGone
	// DropUnexpected: an inbound message the pattern cannot accept (a
	// reply nobody asked for, a malformed envelope).
	DropUnexpected
	// DropUnread: received, but the socket was closed before the
	// application took it.
	DropUnread

	// NumDropReasons is one more than the largest reason: counters indexed
	// by reason have this length.
	NumDropReasons = iota + 1
)

var dropNames = [NumDropReasons]string{
	DropHWM:        "hwm",
	DropNoPeer:     "no-peer",
	DropPeerGone:   "peer-gone",
	DropUnexpected: "unexpected",
	DropUnread:     "unread",
}

// String returns the reason's short name ("hwm", "no-peer", ...).
func (r DropReason) String() string {
	if r > 0 && int(r) < len(dropNames) {
		return dropNames[r]
	}
	return fmt.Sprintf("DropReason(%d)", int(r))
}

// Drop describes one message a pattern dropped.
type Drop struct {
	// Pipe is the peer concerned (nil when none is).
	Pipe Pipe
	Msg  Msg
	// Tag is the inbound message's tag (zero for outbound messages).
	Tag    Tag
	Reason DropReason
}

// Config is what a pattern needs to know about its socket.
type Config struct {
	// RecvHWM bounds inbound messages queued per peer; <= 0 is unlimited.
	RecvHWM int
	// OnDrop is told of every message the pattern drops. It must not
	// block or call back into the pattern.
	OnDrop func(Drop)

	// XPubVerbose passes every subscription message to an XPUB's
	// application, not only the first for a topic (libzmq XPUB_VERBOSE).
	XPubVerbose bool
	// XPubVerboser passes every cancellation too, not only the last for a
	// topic (libzmq XPUB_VERBOSER); it implies XPubVerbose.
	XPubVerboser bool
	// XPubManual leaves subscriptions to the application: every
	// subscription message is passed on and applied only when the
	// application calls Subscribe or Unsubscribe (libzmq XPUB_MANUAL).
	XPubManual bool
	// XPubWelcome, when non-nil, is sent to each subscriber as it connects
	// (libzmq XPUB_WELCOME_MSG).
	XPubWelcome []byte
	// ReqRelaxed lets a REQ send a new request before the reply to the
	// previous one; late replies to earlier requests are then discarded
	// (libzmq REQ_RELAXED).
	ReqRelaxed bool
	// ReqCorrelate makes a REQ put a 4-byte request id before the
	// delimiter and accept only replies carrying the current id (libzmq
	// REQ_CORRELATE).
	ReqCorrelate bool
	// RouterMandatory makes a ROUTER fail Send with ErrHostUnreachable
	// for an unknown routing id, and wait for room when the peer's queue
	// is full, instead of dropping (libzmq ROUTER_MANDATORY).
	RouterMandatory bool
	// RouterHandover lets a new peer announcing a routing id already in
	// use take it over (libzmq ROUTER_HANDOVER); without it the new peer
	// is refused.
	RouterHandover bool
}

func (c *Config) drop(p Pipe, m Msg, r DropReason) { c.dropIn(p, m, 0, r) }

// dropIn reports a dropped inbound message with its tag.
func (c *Config) dropIn(p Pipe, m Msg, tag Tag, r DropReason) {
	if c.OnDrop != nil {
		c.OnDrop(Drop{Pipe: p, Msg: m, Tag: tag, Reason: r})
	}
}
