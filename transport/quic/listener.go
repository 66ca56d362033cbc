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

	mu     sync.Mutex
	closed bool // set by Close before it drains quic-go's accept queue
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
	l.mu.Lock()
	if l.closed {
		// Close is refusing what quic-go queued; this one came out on
		// our side of the race.
		l.mu.Unlock()
		refuse(qc)
		return nil, fmt.Errorf("%w: %s listener", transport.ErrClosed, l.endpoint)
	}
	l.sock.acquire()
	l.mu.Unlock()
	c := newConn(qc, &l.t.opts, false, time.Now().Add(l.t.opts.setupTimeout), l.sock.release)
	if err := l.t.track(c); err != nil {
		c.abort(CodeAbort, "transport closed")
		c.tick.stop()
		l.sock.release()
		return nil, err
	}
	return c, nil
}

// Endpoint is the bound endpoint with the port resolved.
func (l *listener) Endpoint() string { return l.endpoint }

// Close stops accepting. Connections already accepted keep running (and
// keep the UDP socket open until the last one closes). Connections whose
// TLS handshake completed but that nobody accepted are closed with code 5
// at once, so their connectors fail promptly instead of waiting for the
// setup timeout: quic-go's Listener.Close waits for the handshakes in
// flight (refusing them) but keeps the completed ones queued for Accept.
func (l *listener) Close() error {
	l.once.Do(func() {
		l.mu.Lock()
		l.closed = true
		l.mu.Unlock()
		_ = l.ql.Close()
		for {
			// After Close, Accept hands out what is queued, then fails.
			qc, err := l.ql.Accept(context.Background())
			if err != nil {
				break
			}
			refuse(qc)
		}
		l.t.forgetListener(l)
		l.sock.release()
	})
	return nil
}

// refuse closes a connection its listener will never hand out.
func refuse(qc *quic.Conn) {
	_ = qc.CloseWithError(quic.ApplicationErrorCode(CodeAbort), "listener closed")
}
