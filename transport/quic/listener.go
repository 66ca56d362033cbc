package quic

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/brookmq/brook/transport"
)

// listener accepts QUIC connections on one bound UDP socket.
type listener struct {
	t        *Transport
	sock     *udpSocket
	ql       *quic.Listener
	endpoint string
	once     sync.Once
}

// Accept waits for a connection whose TLS handshake is complete. The Conn
// has not accepted its streams nor done the ZMTP handshake: its Handshake
// does, within the setup timeout counted from now.
func (l *listener) Accept(ctx context.Context) (transport.Conn, error) {
	qc, err := l.ql.Accept(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if errTransportClosed(err) {
			return nil, fmt.Errorf("%w: %s listener", transport.ErrClosed, l.endpoint)
		}
		return nil, fmt.Errorf("brook: quic: accept on %s: %s", l.endpoint, err.Error())
	}
	l.sock.acquire()
	c := newConn(qc, &l.t.opts, &l.t.background, false, time.Now().Add(l.t.opts.setupTimeout), l.sock.release)
	if err := l.t.track(c); err != nil {
		c.abort(CodeAbort, "transport closed")
		l.sock.release()
		return nil, err
	}
	return c, nil
}

// Endpoint is the bound endpoint with the port resolved.
func (l *listener) Endpoint() string { return l.endpoint }

// Close stops accepting; connections already accepted keep running (and
// keep the UDP socket open until the last one closes).
func (l *listener) Close() error {
	l.once.Do(func() {
		_ = l.ql.Close()
		l.t.forgetListener(l)
		l.sock.release()
	})
	return nil
}
