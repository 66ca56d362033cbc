package impl

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/quic-go/quic-go"
)

// raw over quic: one QUIC connection per socket pair and one bidirectional
// stream on it, carrying the same length-prefixed frames through the same
// bufio as over TCP: a bare quic-go stream, brook's QUIC limit.
const (
	// rawQUICALPN is raw's application protocol: not brook's
	// omq-zmtp/1, as raw speaks its own framing.
	rawQUICALPN = "mqbench-raw"
	// rawQUICPreface opens the stream: a QUIC listener learns of a
	// stream only with its first bytes, so the connector sends these at
	// once.
	rawQUICPreface = "RAWQ"
	// rawQUICLinger bounds how long a lingering Close waits for the
	// peer to hang up.
	rawQUICLinger = 10 * time.Second
	// rawQUICDialTimeout bounds one dial attempt, so a connector started
	// before its listener retries.
	rawQUICDialTimeout = 2 * time.Second
)

// rawQUICConfig is quic-go's defaults with flow-control windows of up to
// 16 MiB per stream and 32 MiB per connection, as quic-go is benchmarked,
// and a keep-alive so a two-process run that waits never idles out.
func rawQUICConfig() *quic.Config {
	return &quic.Config{
		MaxStreamReceiveWindow:     16 << 20,
		MaxConnectionReceiveWindow: 32 << 20,
		KeepAlivePeriod:            2 * time.Second,
	}
}

// quicStreamConn is the stream as the net.Conn rawSocket works on.
type quicStreamConn struct {
	*quic.Stream
	qc      *quic.Conn
	release func() // closes the listener's UDP socket; nil when dialed
	linger  bool
	once    sync.Once
}

// LocalAddr is the local UDP address.
func (c *quicStreamConn) LocalAddr() net.Addr { return c.qc.LocalAddr() }

// RemoteAddr is the peer's UDP address.
func (c *quicStreamConn) RemoteAddr() net.Addr { return c.qc.RemoteAddr() }

// Close ends the stream after what was written (a FIN). With linger it
// then reads, and discards, what the peer still sends until the peer ends
// its side or closes the connection (it has read everything), for up to
// rawQUICLinger; then it closes the connection.
func (c *quicStreamConn) Close() error {
	c.once.Do(func() {
		_ = c.Stream.Close()
		if c.linger {
			_ = c.Stream.SetReadDeadline(time.Now().Add(rawQUICLinger))
			_, _ = io.Copy(io.Discard, c.Stream)
		}
		_ = c.qc.CloseWithError(0, "")
		if c.release != nil {
			c.release()
		}
	})
	return nil
}

// abort closes the connection at once, cutting a lingering Close short.
func (c *quicStreamConn) abort() {
	_ = c.qc.CloseWithError(0, "")
	_ = c.Close()
}

// rawQUICClient returns the connector's TLS configuration for host.
func rawQUICClient(base *tls.Config, host string) *tls.Config {
	c := base.Clone()
	c.NextProtos = []string{rawQUICALPN}
	c.MinVersion = tls.VersionTLS13
	c.ServerName = host
	return c
}

// dialRawQUIC connects to addr, opens the stream and sends the preface.
func dialRawQUIC(ctx context.Context, addr string, base *tls.Config, linger bool) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, rawQUICDialTimeout)
	defer cancel()
	qc, err := quic.DialAddr(ctx, addr, rawQUICClient(base, host), rawQUICConfig())
	if err != nil {
		return nil, err
	}
	s, err := qc.OpenStream()
	if err == nil {
		_, err = s.Write([]byte(rawQUICPreface))
	}
	if err != nil {
		_ = qc.CloseWithError(0, "")
		return nil, err
	}
	return &quicStreamConn{Stream: s, qc: qc, linger: linger}, nil
}

// rawQUICListener accepts raw's QUIC connections as net.Conns. It owns its
// UDP socket until Accept hands it to the connection it returns.
type rawQUICListener struct {
	udp    *net.UDPConn
	tr     *quic.Transport
	ln     *quic.Listener
	linger bool
	ctx    context.Context // ends with Close
	cancel context.CancelFunc

	mu       sync.Mutex
	closed   bool
	handover bool // Accept gave the UDP socket to a connection
}

// listenRawQUIC binds addr.
func listenRawQUIC(addr string, base *tls.Config, linger bool) (*rawQUICListener, error) {
	if len(base.Certificates) == 0 {
		return nil, errors.New("quic: no certificate to present (--quic-cert, --quic-key)")
	}
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	udp, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, err
	}
	conf := base.Clone()
	conf.NextProtos = []string{rawQUICALPN}
	conf.MinVersion = tls.VersionTLS13
	tr := &quic.Transport{Conn: udp}
	ln, err := tr.Listen(conf, rawQUICConfig())
	if err != nil {
		_ = tr.Close()
		_ = udp.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &rawQUICListener{udp: udp, tr: tr, ln: ln, linger: linger, ctx: ctx, cancel: cancel}, nil
}

// Addr is the bound UDP address.
func (l *rawQUICListener) Addr() net.Addr { return l.udp.LocalAddr() }

// Accept waits for a connection, its stream and its preface.
func (l *rawQUICListener) Accept() (net.Conn, error) {
	qc, err := l.ln.Accept(l.ctx)
	if err != nil {
		return nil, err
	}
	s, err := qc.AcceptStream(l.ctx)
	if err == nil {
		stop := context.AfterFunc(l.ctx, func() { _ = s.SetReadDeadline(time.Unix(1, 0)) })
		var got [len(rawQUICPreface)]byte
		_, err = io.ReadFull(s, got[:])
		stop()
		if err == nil && string(got[:]) != rawQUICPreface {
			err = fmt.Errorf("quic: peer is not a raw mqbench socket (preface %q)", got[:])
		}
	}
	if err != nil {
		_ = qc.CloseWithError(1, "")
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		_ = qc.CloseWithError(0, "")
		return nil, net.ErrClosed
	}
	l.handover = true
	return &quicStreamConn{Stream: s, qc: qc, linger: l.linger, release: l.closeSocket}, nil
}

// Close stops accepting. The UDP socket stays open for a connection
// Accept returned, until that connection closes.
func (l *rawQUICListener) Close() error {
	l.cancel()
	_ = l.ln.Close()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	if !l.handover {
		l.closeSocket()
	}
	return nil
}

func (l *rawQUICListener) closeSocket() {
	_ = l.tr.Close()
	_ = l.udp.Close()
}
