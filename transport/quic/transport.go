package quic

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/brookmq/brook/transport"
)

// Transport dials and listens on quic:// endpoints. It is safe for
// concurrent use. It owns the UDP sockets and QUIC state of every listener
// and connection it makes; Close closes them all.
//
// Each listener has a UDP socket of its own; the connections a Transport
// dials share one (QUIC tells them apart by connection ID), so a socket
// connecting to many peers holds one UDP socket and one pair of quic-go
// goroutines for them all, not one per peer.
type Transport struct {
	tls  *tls.Config
	opts options

	mu        sync.Mutex
	closed    bool
	listeners map[*listener]struct{}
	conns     map[*Conn]struct{}
	dialSock  *udpSocket // shared by dialed connections; closes with the last of them
}

var _ transport.Transport = (*Transport)(nil)

// New returns a quic:// transport. tlsConf is used, cloned, for both
// roles: a listener needs its Certificates (or GetCertificate); a
// connector verifies the listener against its RootCAs (the system roots if
// nil). New forces TLS 1.3 and the ALPN "omq-zmtp/1"; a config with
// InsecureSkipVerify makes Dial fail. Invalid options make Dial and Listen
// fail with an error matching ErrConfig (Err reports them at once).
func New(tlsConf *tls.Config, opts ...Option) *Transport {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	var c *tls.Config
	if tlsConf != nil {
		c = tlsConf.Clone()
	}
	return &Transport{
		tls:       c,
		opts:      o,
		listeners: make(map[*listener]struct{}),
		conns:     make(map[*Conn]struct{}),
	}
}

// Err reports an invalid option given to New (matching ErrConfig), or a
// missing or insecure TLS configuration (ErrNoTLSConfig, ErrInsecureTLS):
// what would make every Dial fail. A Transport that can dial but has no
// certificate to listen with is valid; Listen reports that. Sockets call
// it in socket.New (transport.Validator).
func (t *Transport) Err() error {
	if t.opts.err != nil {
		return t.opts.err
	}
	_, err := clientTLS(t.tls, t.opts.serverName)
	return err
}

// Schemes returns "quic".
func (t *Transport) Schemes() []string { return []string{"quic"} }

func (t *Transport) quicConfig() *quic.Config {
	window := uint64(t.opts.receiveWindow)
	return &quic.Config{
		Versions:                       []quic.Version{quic.Version1},
		HandshakeIdleTimeout:           t.opts.setupTimeout / 2, // quic-go allows twice this for the whole TLS handshake
		MaxIdleTimeout:                 t.opts.idleTimeout,
		KeepAlivePeriod:                t.opts.keepAlive,
		InitialStreamReceiveWindow:     window,
		MaxStreamReceiveWindow:         window,
		InitialConnectionReceiveWindow: window + livenessWindowAllowance,
		MaxConnectionReceiveWindow:     window + livenessWindowAllowance,
		MaxIncomingStreams:             maxIncomingBidiStreams,
		MaxIncomingUniStreams:          maxIncomingUniStreams,
	}
}

// Dial connects to ep ("host:port"), completes the QUIC and TLS handshake
// within the setup timeout and ctx, and opens streams 0 and 4. The
// returned Conn has not done the ZMTP handshake. A listener whose
// certificate is not trusted fails with ErrTLS, one that does not speak
// omq-zmtp/1 with ErrALPN.
func (t *Transport) Dial(ctx context.Context, ep transport.Endpoint) (transport.Conn, error) {
	if t.opts.err != nil {
		return nil, t.opts.err
	}
	host, port, err := transport.SplitHostPort(ep.Address)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %v", transport.ErrBadEndpoint, ep, err)
	}
	if host == "" || port == 0 {
		return nil, fmt.Errorf("%w %q: a connector needs a host and a port", transport.ErrBadEndpoint, ep)
	}
	tlsConf, err := clientTLS(t.tls, t.opts.serverName)
	if err != nil {
		return nil, err
	}
	addr, err := net.ResolveUDPAddr("udp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("brook: quic: resolve %s: %w", ep.Address, err)
	}
	if tlsConf.ServerName == "" {
		tlsConf.ServerName = host
	}
	sock, err := t.dialSocket()
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(t.opts.setupTimeout)
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	qc, err := sock.qt.Dial(dctx, addr, tlsConf, t.quicConfig())
	if err != nil {
		sock.release()
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("brook: quic: dial %s: %w", ep.Address, ctxErr)
		}
		if dctx.Err() != nil {
			return nil, fmt.Errorf("%w: quic dial %s", transport.ErrHandshakeTimeout, ep.Address)
		}
		return nil, dialError(ep.Address, err)
	}
	c := newConn(qc, &t.opts, true, deadline, sock.release)
	if err := c.openStreams(); err != nil {
		c.abort(CodeInvalidSetup, "cannot open streams")
		c.tick.stop()
		sock.release()
		return nil, fmt.Errorf("brook: quic: dial %s: %w", ep.Address, err)
	}
	if err := t.track(c); err != nil {
		c.abort(CodeAbort, "transport closed")
		c.tick.stop()
		sock.release()
		return nil, err
	}
	return c, nil
}

// Listen binds ep ("host:port"; "*" or an empty host binds every
// interface, port 0 picks one). Accepted connections have completed TLS;
// their Handshake accepts the streams and does the rest.
func (t *Transport) Listen(ep transport.Endpoint) (transport.Listener, error) {
	if t.opts.err != nil {
		return nil, t.opts.err
	}
	host, port, err := transport.SplitHostPort(ep.Address)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %v", transport.ErrBadEndpoint, ep, err)
	}
	tlsConf, err := serverTLS(t.tls)
	if err != nil {
		return nil, err
	}
	addr := &net.UDPAddr{Port: port}
	if host != "" {
		a, err := net.ResolveUDPAddr("udp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			return nil, fmt.Errorf("brook: quic: resolve %s: %w", ep.Address, err)
		}
		addr = a
	}
	if err := t.checkOpen(); err != nil {
		return nil, err
	}
	sock, err := openUDP(addr, t.opts.logger)
	if err != nil {
		return nil, err
	}
	ql, err := sock.qt.Listen(tlsConf, t.quicConfig())
	if err != nil {
		sock.release()
		return nil, fmt.Errorf("brook: quic: listen %s: %w", ep.Address, err)
	}
	l := &listener{t: t, sock: sock, ql: ql, endpoint: "quic://" + sock.udp.LocalAddr().String()}
	if err := t.trackListener(l); err != nil {
		_ = ql.Close()
		sock.release()
		return nil, err
	}
	return l, nil
}

// Close closes every listener and connection of the Transport (see
// Conn.Close: at once, code 5 unless a connection had completed) and makes
// Dial and Listen fail with transport.ErrClosed. When it returns, every
// goroutine the Transport ran has ended.
func (t *Transport) Close() error {
	t.mu.Lock()
	t.closed = true
	ls := make([]*listener, 0, len(t.listeners))
	for l := range t.listeners {
		ls = append(ls, l)
	}
	cs := make([]*Conn, 0, len(t.conns))
	for c := range t.conns {
		cs = append(cs, c)
	}
	t.mu.Unlock()
	for _, l := range ls {
		_ = l.Close()
	}
	// A Close running concurrently elsewhere finishes before ours
	// returns.
	for _, c := range cs {
		_ = c.Close()
	}
	return nil
}

// dialSocket returns the UDP socket dialed connections share, with one
// more reference held for the caller; it opens a new one when there is
// none, or when the last connection on the previous one just closed it.
func (t *Transport) dialSocket() (*udpSocket, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, fmt.Errorf("%w: quic transport", transport.ErrClosed)
	}
	if s := t.dialSock; s != nil && s.tryAcquire() {
		return s, nil
	}
	s, err := openUDP(nil, t.opts.logger)
	if err != nil {
		return nil, err
	}
	t.dialSock = s
	return s, nil
}

func (t *Transport) checkOpen() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return fmt.Errorf("%w: quic transport", transport.ErrClosed)
	}
	return nil
}

// track registers a new connection, unless the Transport is closed.
func (t *Transport) track(c *Conn) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return fmt.Errorf("%w: quic transport", transport.ErrClosed)
	}
	t.conns[c] = struct{}{}
	c.forget = func() {
		t.mu.Lock()
		delete(t.conns, c)
		t.mu.Unlock()
	}
	return nil
}

func (t *Transport) trackListener(l *listener) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return fmt.Errorf("%w: quic transport", transport.ErrClosed)
	}
	t.listeners[l] = struct{}{}
	return nil
}

func (t *Transport) forgetListener(l *listener) {
	t.mu.Lock()
	delete(t.listeners, l)
	t.mu.Unlock()
}

// errTransportClosed reports whether err says quic-go's Transport or
// Listener was closed.
func errTransportClosed(err error) bool {
	return errors.Is(err, quic.ErrServerClosed) || errors.Is(err, quic.ErrTransportClosed)
}
