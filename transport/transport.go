package transport

import (
	"context"
	"log/slog"
	"strings"
	"time"
)

// Transport dials and listens on the endpoints of one scheme. A Transport
// is safe for concurrent use. Transports are per socket values (no global
// registry): a socket knows tcp, ipc, inproc and zstd+tcp by default and
// is given others (quic) with an option.
type Transport interface {
	// Schemes lists the endpoint schemes this transport serves, such as
	// "tcp".
	Schemes() []string
	// Dial opens a connection to addr (the endpoint without its scheme).
	// The returned Conn has not shaken hands yet. Dial honours ctx.
	Dial(ctx context.Context, ep Endpoint) (Conn, error)
	// Listen binds addr. It is synchronous: when it returns, peers can
	// connect.
	Listen(ep Endpoint) (Listener, error)
}

// Validator is implemented by transports whose options are given to a
// constructor that cannot fail (quic.New, zstd.New): Err reports the
// first invalid option, or a configuration that can never dial or listen.
// A socket refuses such a transport in New (socket.ErrBadOption), instead
// of failing every dial later in an endless reconnect loop.
type Validator interface {
	Err() error
}

// Listener accepts connections on a bound endpoint.
//
// Accept may be called by one goroutine at a time; Close may be called
// from any goroutine and unblocks Accept with ErrClosed.
type Listener interface {
	// Accept waits for the next connection. The Conn has not shaken hands
	// yet: the caller runs Handshake (usually on its own goroutine, so a
	// stalled peer never holds up the others).
	Accept(ctx context.Context) (Conn, error)
	// Endpoint is the bound endpoint with any wildcard port resolved, for
	// example "tcp://127.0.0.1:41234".
	Endpoint() string
	// Close stops listening. Established connections are not affected.
	Close() error
}

// Conn is one connection to one peer carrying whole messages, and named
// commands beside them.
//
// Concurrency: Handshake must complete before anything else is called.
// After it, one goroutine may read (ReadMsg, with SetCommandHandler set
// before the first ReadMsg) while another writes (WriteMsg,
// WriteSubscription, WriteCommand, Flush, CloseWrite); Close may be
// called from any goroutine at any time and unblocks both with an error
// matching ErrClosed (or the error that broke the connection).
type Conn interface {
	// Handshake performs the protocol handshake (ZMTP greeting, mechanism
	// and READY metadata for stream transports) within cfg's handshake
	// timeout and ctx, and returns what the peer announced. It fails with
	// ErrIncompatible when the socket types cannot talk to each other.
	Handshake(ctx context.Context, cfg *Config) (PeerInfo, error)
	// ReadMsg blocks until the next whole message arrives. Subscriptions
	// arrive in ZMTP 3.0 message form: one frame holding 0x01 (subscribe)
	// or 0x00 (cancel) followed by the topic, whatever form the peer used
	// on the wire. Heartbeat and handshake commands are handled inside the
	// Conn; commands the peer wrote with WriteCommand go to the handler
	// set with SetCommandHandler, on this goroutine, in the order they
	// were written relative to the messages.
	ReadMsg() (Msg, error)
	// SetCommandHandler installs h for the commands the peer writes with
	// WriteCommand. It must be called after Handshake and before the
	// first ReadMsg. Without a handler such commands are discarded.
	SetCommandHandler(h CommandHandler)
	// WriteMsg queues m for sending; it may buffer until Flush. The Conn
	// owns m's frames from here on.
	WriteMsg(m Msg) error
	// WriteSubscription queues a subscription (subscribe true) or its
	// cancellation for topic, in the form the peer understands (a 3.1
	// command, or a 3.0 message for a 3.0 peer).
	WriteSubscription(topic []byte, subscribe bool) error
	// WriteCommand queues a command, ordered with the messages written
	// before and after it; it may buffer until Flush. The name must pass
	// CheckCommand and len(name)+len(data) must not exceed MaxCommandSize
	// (ErrBadCommand otherwise, and nothing is sent). The Conn does not
	// keep data after WriteCommand returns. Only use commands a peer has
	// announced it understands (brook's own extensions are negotiated
	// with X-Brook-* handshake properties): a libzmq peer ignores unknown
	// commands, but older brook versions may not.
	WriteCommand(name string, data []byte) error
	// Flush sends everything buffered.
	Flush() error
	// CloseWrite flushes what is buffered and ends the sending direction:
	// the peer reads everything written so far and then sees the
	// connection end, while ReadMsg here goes on until the peer closes its
	// side. This is how a closing socket lingers: it knows its messages
	// were read when the peer hangs up. Writes after CloseWrite fail with
	// ErrClosed; Close is still needed. A transport that cannot half-close
	// returns an error matching ErrNotSupported after flushing.
	CloseWrite() error
	// Close tears the connection down. It is safe to call more than once.
	Close() error
	// LocalAddr and RemoteAddr describe the two ends, for logs and events.
	LocalAddr() string
	RemoteAddr() string
}

// WriteCounter is implemented by Conns that can say which of the writes
// made on them reached the underlying stream whole (zmtp's, under tcp,
// ipc and zstd+tcp). After a write or a flush has failed, the writer uses
// it to tell the messages the stream took, which are sent, from those it
// did not take, or took only in part, which may be sent again elsewhere.
type WriteCounter interface {
	// Written returns how many WriteMsg, WriteSubscription and
	// WriteCommand calls have had all their bytes handed to the
	// underlying stream (the kernel) since the Conn was made. A call
	// whose bytes went out only in part does not count.
	Written() uint64
}

// CommandHandler receives a command the peer wrote with WriteCommand:
// its name and data, which are valid only during the call. It runs on the
// goroutine calling ReadMsg, before ReadMsg returns the message that
// followed the command. A non-nil error ends the connection with that
// error (use it for malformed or unexpected commands).
type CommandHandler func(name string, data []byte) error

// Config describes the local socket to a handshake and sets the limits the
// connection enforces afterwards.
type Config struct {
	// SocketType is the local socket type as on the wire: "PUSH", ...
	SocketType string
	// PeerTypes lists the socket types (wire names) a peer may announce;
	// a peer of any other type is refused with ErrIncompatible (an ERROR
	// command on the wire). The socket fills it from its type's entry in
	// the socket type table (patterns.Type.PeerNames). Nil puts no
	// restriction on the peer's type (for tools and tests working at the
	// transport level).
	PeerTypes []string
	// AnnounceIdentity makes the handshake carry an Identity property,
	// empty when Identity is (REQ, DEALER and ROUTER do, as in libzmq).
	AnnounceIdentity bool
	// Identity is the routing id announced to the peer when
	// AnnounceIdentity is set.
	Identity []byte
	// Properties are extra READY properties (names should start with
	// "X-"), sent as given.
	Properties map[string][]byte
	// MaxMsgSize bounds the total size of an inbound message in bytes;
	// larger messages break the connection with ErrTooLarge before
	// anything is allocated for them. Zero or less means no limit.
	MaxMsgSize int64
	// HandshakeTimeout bounds the whole handshake; zero means none.
	HandshakeTimeout time.Duration
	// HeartbeatInterval sends a PING every interval, whatever else is
	// sent; zero turns heartbeats off (PINGs from the peer are still
	// answered).
	HeartbeatInterval time.Duration
	// HeartbeatTimeout drops the connection when nothing arrives for this
	// long after a PING was due (bytes waiting unread in the kernel
	// count); zero means HeartbeatInterval.
	HeartbeatTimeout time.Duration
	// HeartbeatTTL is announced in our PINGs: the peer drops us when it
	// hears nothing from us for this long. Zero announces none.
	HeartbeatTTL time.Duration
	// Logger receives debug logs; nil discards them.
	Logger *slog.Logger
	// Security is the ZMTP security mechanism of stream connections
	// (PLAIN, CURVE, or NULL with an authenticator); nil is plain NULL.
	Security Security
}

// PeerInfo is what the peer announced in its handshake.
type PeerInfo struct {
	// SocketType is the peer's socket type as on the wire ("PULL", ...).
	SocketType string
	// Identity is the routing id the peer announced (nil if none).
	Identity []byte
	// Properties holds every READY property the peer sent, known or not,
	// under the names it used. Use Property for case-insensitive lookup.
	Properties map[string][]byte
	// Version is the peer's ZMTP version as major*10+minor (30, 31, ...);
	// inproc peers report 31.
	Version int
	// RemoteAddr is the peer's address.
	RemoteAddr string
	// UserID is the identity the security mechanism authenticated (the
	// ZAP user id: a PLAIN user name, a CURVE client key, whatever the
	// authenticator said); empty for NULL, or when the peer was not
	// authenticated.
	UserID string
}

// Property returns the value of the named property, matching the name
// case-insensitively as ZMTP requires.
func (p PeerInfo) Property(name string) ([]byte, bool) {
	if v, ok := p.Properties[name]; ok {
		return v, true
	}
	for k, v := range p.Properties {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}

// PeerAllowed reports whether a peer announcing socket type peer may talk
// to the socket cfg describes: peer must be one of cfg.PeerTypes
// (compared case-insensitively, as ZMTP names are), unless PeerTypes is
// nil.
func (cfg *Config) PeerAllowed(peer string) bool {
	if cfg.PeerTypes == nil {
		return true
	}
	for _, t := range cfg.PeerTypes {
		if strings.EqualFold(t, peer) {
			return true
		}
	}
	return false
}

// SubscriptionMsg returns the ZMTP 3.0 message form of a subscription
// (0x01+topic) or cancellation (0x00+topic).
func SubscriptionMsg(topic []byte, subscribe bool) Msg {
	b := make([]byte, 1+len(topic))
	if subscribe {
		b[0] = 1
	}
	copy(b[1:], topic)
	return Msg{Frames: [][]byte{b}}
}

// ParseSubscription reports whether m is a subscription message in 3.0
// form and returns its topic and direction. The topic aliases m's frame.
func ParseSubscription(m Msg) (topic []byte, subscribe bool, ok bool) {
	if len(m.Frames) != 1 || len(m.Frames[0]) == 0 {
		return nil, false, false
	}
	f := m.Frames[0]
	switch f[0] {
	case 1:
		return f[1:], true, true
	case 0:
		return f[1:], false, true
	}
	return nil, false, false
}

// ValidIdentity reports whether id may be announced as a routing id: at
// most 255 bytes and not starting with a zero byte (libzmq reserves those
// for generated ids).
func ValidIdentity(id []byte) bool {
	return len(id) <= 255 && (len(id) == 0 || id[0] != 0)
}
