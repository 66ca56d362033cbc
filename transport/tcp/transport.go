package tcp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"

	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/zmtp"
)

// Transport dials and listens on TCP endpoints and speaks ZMTP on the
// connections. It is safe for concurrent use.
type Transport struct {
	scheme string
	opts   func() zmtp.Options
}

var _ transport.Transport = (*Transport)(nil)

// New returns the tcp:// transport.
func New() *Transport { return NewWithOptions("tcp", nil) }

// NewWithOptions returns a transport serving scheme over TCP whose
// connections are made with the zmtp.Options that opts returns (called once
// per connection, so each may get its own codec state); nil opts means
// zero Options. zstd+tcp is NewWithOptions("zstd+tcp", withCodec).
func NewWithOptions(scheme string, opts func() zmtp.Options) *Transport {
	if opts == nil {
		opts = func() zmtp.Options { return zmtp.Options{} }
	}
	return &Transport{scheme: scheme, opts: opts}
}

// Schemes returns the one scheme this transport serves.
func (t *Transport) Schemes() []string { return []string{t.scheme} }

// Dial connects to ep ("host:port"; the host may be a name, "*" is not
// allowed). It honours ctx. The returned Conn has not shaken hands.
func (t *Transport) Dial(ctx context.Context, ep transport.Endpoint) (transport.Conn, error) {
	host, port, err := t.parse(ep)
	if err != nil {
		return nil, err
	}
	if host == "" {
		return nil, fmt.Errorf("%w %q: cannot connect to host \"*\"", transport.ErrBadEndpoint, ep)
	}
	if port == 0 {
		return nil, fmt.Errorf("%w %q: cannot connect to port 0", transport.ErrBadEndpoint, ep)
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, fmt.Sprint(port)))
	if err != nil {
		return nil, fmt.Errorf("brook: %s dial %s: %w", t.scheme, ep, err)
	}
	return t.wrap(c.(*net.TCPConn)), nil
}

// Listen binds ep. "*" or an empty host listens on every interface; port 0
// picks a free port, which Listener.Endpoint reports. An address already in
// use gives an error matching transport.ErrAddrInUse.
func (t *Transport) Listen(ep transport.Endpoint) (transport.Listener, error) {
	host, port, err := t.parse(ep)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, fmt.Sprint(port)))
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("%w: %s: %w", transport.ErrAddrInUse, ep, err)
		}
		return nil, fmt.Errorf("brook: %s bind %s: %w", t.scheme, ep, err)
	}
	tl := ln.(*net.TCPListener)
	bound := tl.Addr().(*net.TCPAddr)
	shown := bound.String()
	if host == "" {
		// libzmq reports a wildcard bind as 0.0.0.0.
		shown = net.JoinHostPort("0.0.0.0", fmt.Sprint(bound.Port))
	}
	return &listener{t: t, ln: tl, endpoint: t.scheme + "://" + shown}, nil
}

// parse checks ep's scheme and splits its address.
func (t *Transport) parse(ep transport.Endpoint) (string, int, error) {
	if ep.Scheme != t.scheme {
		return "", 0, fmt.Errorf("%w %q: the %s transport does not serve %q", transport.ErrBadEndpoint, ep, t.scheme, ep.Scheme)
	}
	host, port, err := transport.SplitHostPort(ep.Address)
	if err != nil {
		return "", 0, fmt.Errorf("%w %q: %v", transport.ErrBadEndpoint, ep, err)
	}
	return host, port, nil
}

// wrap turns a TCP connection into an unshaken ZMTP Conn.
func (t *Transport) wrap(c *net.TCPConn) *zmtp.Conn {
	_ = c.SetNoDelay(true)
	return zmtp.NewConn(c, t.scheme+"://"+c.LocalAddr().String(), t.scheme+"://"+c.RemoteAddr().String(), t.opts())
}
