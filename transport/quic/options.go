package quic

import (
	"fmt"
	"log/slog"
	"time"
)

// Defaults of the omq-zmtp/1 profile.
const (
	DefaultSetupTimeout     = 10 * time.Second
	DefaultIdleTimeout      = 10 * time.Second
	DefaultKeepAlive        = 2 * time.Second
	DefaultReceiveWindow    = 1 << 20
	DefaultLivenessInterval = 2 * time.Second
	DefaultLivenessTimeout  = 10 * time.Second
	minReceiveWindow        = 16 << 10
	livenessWindowAllowance = 64 << 10
	maxIncomingBidiStreams  = 4
	maxIncomingUniStreams   = 1
)

// Option configures a Transport. Invalid values make Dial and Listen fail
// with an error matching ErrConfig.
type Option func(*options)

type options struct {
	setupTimeout     time.Duration
	idleTimeout      time.Duration
	keepAlive        time.Duration
	receiveWindow    int
	livenessInterval time.Duration
	livenessTimeout  time.Duration
	serverName       string
	logger           *slog.Logger
	err              error
}

func defaultOptions() options {
	return options{
		setupTimeout:     DefaultSetupTimeout,
		idleTimeout:      DefaultIdleTimeout,
		keepAlive:        DefaultKeepAlive,
		receiveWindow:    DefaultReceiveWindow,
		livenessInterval: DefaultLivenessInterval,
		livenessTimeout:  DefaultLivenessTimeout,
		logger:           slog.New(slog.DiscardHandler),
	}
}

func (o *options) setErr(format string, args ...any) {
	if o.err == nil {
		o.err = fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...)
	}
}

// WithSetupTimeout bounds connection setup: TLS, streams, liveness
// prefaces and the ZMTP handshake (default 10 s). d must be positive.
func WithSetupTimeout(d time.Duration) Option {
	return func(o *options) {
		if d <= 0 {
			o.setErr("setup timeout %v must be positive", d)
			return
		}
		o.setupTimeout = d
	}
}

// WithIdleTimeout sets QUIC's idle timeout: a connection with no network
// activity for this long is dropped (default 10 s). d must be positive.
func WithIdleTimeout(d time.Duration) Option {
	return func(o *options) {
		if d <= 0 {
			o.setErr("idle timeout %v must be positive", d)
			return
		}
		o.idleTimeout = d
	}
}

// WithKeepAlive sets how often QUIC sends a keep-alive packet on a quiet
// connection (default 2 s); 0 sends none.
func WithKeepAlive(d time.Duration) Option {
	return func(o *options) {
		if d < 0 {
			o.setErr("keep-alive %v must not be negative", d)
			return
		}
		o.keepAlive = d
	}
}

// WithReceiveWindow sets the data stream's flow-control receive window in
// bytes (default 1 MiB, at least 16 KiB): how much a peer may send ahead of
// the application's reading.
func WithReceiveWindow(n int) Option {
	return func(o *options) {
		if n < minReceiveWindow {
			o.setErr("receive window %d below %d bytes", n, minReceiveWindow)
			return
		}
		o.receiveWindow = n
	}
}

// WithLiveness sets how often a liveness PING is sent and how long the
// connection may go without any valid liveness record before it is dropped
// with close code 3 (defaults 2 s and 10 s). A socket's heartbeat settings
// (transport.Config.HeartbeatInterval and HeartbeatTimeout), when set,
// take precedence for its connections. timeout must not be shorter than
// interval.
func WithLiveness(interval, timeout time.Duration) Option {
	return func(o *options) {
		if interval <= 0 || timeout < interval {
			o.setErr("liveness interval %v and timeout %v: want 0 < interval <= timeout", interval, timeout)
			return
		}
		o.livenessInterval, o.livenessTimeout = interval, timeout
	}
}

// WithServerName sets the name a connector expects in the listener's
// certificate instead of the endpoint's host. Verification stays on.
func WithServerName(name string) Option {
	return func(o *options) { o.serverName = name }
}

// WithLogger sends the Transport's diagnostics (quic-go's UDP buffer
// warning included) to l, at debug level. The default discards them.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}
