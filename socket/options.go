package socket

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/brookmq/brook/patterns"
	"github.com/brookmq/brook/transport"
)

// Defaults. Where brook departs from libzmq it says so.
const (
	// DefaultHWM is the send and receive high-water mark, in messages per
	// peer, as in libzmq.
	DefaultHWM = 1000
	// DefaultLinger is how long Close keeps delivering queued messages.
	// libzmq waits forever by default; brook bounds it.
	DefaultLinger = 2 * time.Second
	// DefaultReconnectInterval is the wait before reconnecting, as libzmq.
	DefaultReconnectInterval = 100 * time.Millisecond
	// DefaultHandshakeTimeout bounds a handshake, as libzmq.
	DefaultHandshakeTimeout = 30 * time.Second
	// DefaultMaxMsgSize bounds an inbound message. libzmq has no limit;
	// brook refuses messages over 256 MiB unless told otherwise.
	DefaultMaxMsgSize = 256 << 20
)

// Option configures a socket in New. Options validate their values and New
// returns the first error.
type Option func(*options) error

type options struct {
	sendHWM, recvHWM int
	linger           time.Duration
	reconnectIvl     time.Duration
	reconnectIvlMax  time.Duration
	handshakeTimeout time.Duration
	maxMsgSize       int64
	heartbeatIvl     time.Duration
	heartbeatTimeout time.Duration
	heartbeatTTL     time.Duration
	routingID        []byte
	immediate        bool
	logger           *slog.Logger
	transports       []transport.Transport
	properties       map[string][]byte
	monitorBuffer    int
	// patternOpts adjust the pattern's configuration (type-specific
	// options such as ROUTER mandatory mode live in options_*.go files).
	patternOpts []func(*patterns.Config)
	typeOnly    []typeOnly // options only some socket types take
	journal     journalOptions
	security    securityOptions // options_security.go
}

func defaultOptions() options {
	return options{
		sendHWM:          DefaultHWM,
		recvHWM:          DefaultHWM,
		linger:           DefaultLinger,
		reconnectIvl:     DefaultReconnectInterval,
		handshakeTimeout: DefaultHandshakeTimeout,
		maxMsgSize:       DefaultMaxMsgSize,
		logger:           slog.New(slog.DiscardHandler),
		monitorBuffer:    256,
		journal:          defaultJournalOptions(),
	}
}

func badOption(name string, v any, why string) error {
	return fmt.Errorf("%w: %s = %v: %s", ErrBadOption, name, v, why)
}

// WithSendHWM sets the send high-water mark: how many messages Send has
// accepted for one peer that have not reached it yet, at most. On tcp,
// ipc and quic a message counts until it is flushed to the kernel; on
// inproc until the peer's reader has taken it (the connection's own
// queue is inside the HWM). At the mark Send blocks (PUSH, DEALER, REQ,
// PAIR) or drops, counted in Stats.Dropped (PUB, XPUB, ROUTER).
//
// A peer that does not read therefore holds, on inproc, exactly the
// sender's SNDHWM plus its own RCVHWM of the sender's messages (see
// WithRecvHWM); on tcp, ipc and quic, that plus whatever the kernel's
// socket buffers hold, which depends on the message size. Journaled
// messages are bounded by the journal's window instead. Zero means no
// limit.
func WithSendHWM(n int) Option {
	return func(o *options) error {
		if n < 0 {
			return badOption("send HWM", n, "must be >= 0")
		}
		o.sendHWM = n
		return nil
	}
}

// WithRecvHWM sets the receive high-water mark: how many messages read
// from one peer and not yet returned by Recv are kept, at most; brook
// stops reading from that peer while it has that many, on every socket
// type. Two exceptions, where journal profile commands travel with the
// messages and must keep being read: a socket with a journal (whose
// acknowledgements come with the replies) reads one more message from a
// peer, which waits for room; and a journaled sender's messages are
// bounded by its window instead. Zero means no limit.
func WithRecvHWM(n int) Option {
	return func(o *options) error {
		if n < 0 {
			return badOption("receive HWM", n, "must be >= 0")
		}
		o.recvHWM = n
		return nil
	}
}

// WithLinger sets how long Close keeps delivering queued messages and
// waits for peers to confirm they read them (see Socket.Close): 0
// discards them at once, a negative duration waits without limit.
func WithLinger(d time.Duration) Option {
	return func(o *options) error {
		o.linger = d
		return nil
	}
}

// WithReconnectInterval sets the wait before reconnecting (libzmq's
// RECONNECT_IVL). It must be positive.
func WithReconnectInterval(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return badOption("reconnect interval", d, "must be > 0")
		}
		o.reconnectIvl = d
		return nil
	}
}

// WithReconnectIntervalMax turns on exponential backoff: the wait doubles
// after each failed attempt up to d (libzmq's RECONNECT_IVL_MAX). Zero,
// the default, keeps the interval constant.
func WithReconnectIntervalMax(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			return badOption("reconnect interval max", d, "must be >= 0")
		}
		o.reconnectIvlMax = d
		return nil
	}
}

// WithHandshakeTimeout bounds each connection's handshake; zero means no
// limit (not advised: a silent peer then holds a connection forever).
func WithHandshakeTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			return badOption("handshake timeout", d, "must be >= 0")
		}
		o.handshakeTimeout = d
		return nil
	}
}

// WithMaxMsgSize bounds the size of an inbound message in bytes; a peer
// that announces a larger one is disconnected before anything is
// allocated. A negative size means no limit.
func WithMaxMsgSize(n int64) Option {
	return func(o *options) error {
		if n == 0 {
			return badOption("max message size", n, "must be > 0, or < 0 for no limit")
		}
		o.maxMsgSize = n
		return nil
	}
}

// WithHeartbeat turns on ZMTP heartbeats: a PING every interval whatever
// else is sent, the connection dropped when nothing arrives within
// timeout of a PING being due (zero: the interval), and ttl announced to
// the peer so it drops us after that much silence (zero: none). A PUSH or
// DEALER routes the unsent queue of a peer dropped this way to its other
// peers. Turn heartbeats on at both ends: a peer with a large backlog to
// read stays alive through its own PINGs.
func WithHeartbeat(interval, timeout, ttl time.Duration) Option {
	return func(o *options) error {
		if interval < 0 || timeout < 0 || ttl < 0 {
			return badOption("heartbeat", []time.Duration{interval, timeout, ttl}, "must be >= 0")
		}
		if ttl > 6553500*time.Millisecond {
			return badOption("heartbeat TTL", ttl, "at most 6553.5s")
		}
		o.heartbeatIvl, o.heartbeatTimeout, o.heartbeatTTL = interval, timeout, ttl
		return nil
	}
}

// WithRoutingID sets the identity announced to peers (libzmq's
// ROUTING_ID): 1 to 255 bytes, not starting with a zero byte.
func WithRoutingID(id []byte) Option {
	return func(o *options) error {
		if len(id) == 0 || !transport.ValidIdentity(id) {
			return badOption("routing id", id, "1..255 bytes, first byte not 0")
		}
		o.routingID = append([]byte(nil), id...)
		return nil
	}
}

// WithImmediate queues messages only to connected peers (libzmq's
// IMMEDIATE): with it, a connecting pipe joins the load balancing only
// after its handshake, so Send blocks instead of queueing for a peer that
// is not there yet.
func WithImmediate(on bool) Option {
	return func(o *options) error {
		o.immediate = on
		return nil
	}
}

// WithLogger sets the logger for connection-level debug logs. The default
// discards everything: a library does not print.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return badOption("logger", l, "must not be nil")
		}
		o.logger = l
		return nil
	}
}

// WithTransport adds a transport (or replaces the default one) for the
// schemes it serves, for example quic.New(tlsConfig). The caller keeps
// ownership: a transport may serve several sockets, and one that holds
// resources of its own (QUIC's UDP sockets) is closed by the caller after
// the sockets that use it.
func WithTransport(t transport.Transport) Option {
	return func(o *options) error {
		if t == nil || len(t.Schemes()) == 0 {
			return badOption("transport", t, "must serve at least one scheme")
		}
		if v, ok := t.(transport.Validator); ok {
			if err := v.Err(); err != nil {
				return fmt.Errorf("%w: transport %v: %w", ErrBadOption, t.Schemes(), err)
			}
		}
		o.transports = append(o.transports, t)
		return nil
	}
}

// WithProperty adds an application metadata property to the handshake.
// Its name must start with "X-" (ZMTP's rule for application metadata).
func WithProperty(name string, value []byte) Option {
	return func(o *options) error {
		if len(name) < 3 || (name[:2] != "X-" && name[:2] != "x-") || len(name) > 255 {
			return badOption("property", name, `name must start with "X-" and be at most 255 bytes`)
		}
		if o.properties == nil {
			o.properties = make(map[string][]byte)
		}
		o.properties[name] = append([]byte(nil), value...)
		return nil
	}
}

// WithMonitorBuffer sets how many events each monitor channel buffers
// before further events to it are counted as missed (default 256).
func WithMonitorBuffer(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return badOption("monitor buffer", n, "must be >= 1")
		}
		o.monitorBuffer = n
		return nil
	}
}
