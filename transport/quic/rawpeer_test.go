package quic

import (
	"context"
	"crypto/tls"
	"io"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/zmtp"
)

// rawPeer is a hand-driven QUIC connector for tests: it does exactly what
// a test tells it, right or wrong.
type rawPeer struct {
	t    testing.TB
	qc   *quic.Conn
	data *quic.Stream
	live *quic.Stream
	zc   *zmtp.Conn
}

// rawDial connects to a listener with quic-go directly. alpn overrides the
// profile's ALPN when set.
func rawDial(t testing.TB, addr string, client *tls.Config, alpn string) (*rawPeer, error) {
	conf := client.Clone()
	conf.NextProtos = []string{ALPN}
	if alpn != "" {
		conf.NextProtos = []string{alpn}
	}
	qc, err := quic.DialAddr(testCtx(t), addr, conf, &quic.Config{MaxIdleTimeout: 5 * time.Second})
	if err != nil {
		return nil, err
	}
	p := &rawPeer{t: t, qc: qc}
	t.Cleanup(func() {
		if p.zc != nil {
			_ = p.zc.Close()
		}
		_ = qc.CloseWithError(0, "")
	})
	return p, nil
}

// openStreams opens streams 0 and 4.
func (p *rawPeer) openStreams() {
	var err error
	p.data, err = p.qc.OpenStream()
	require.NoError(p.t, err)
	p.live, err = p.qc.OpenStream()
	require.NoError(p.t, err)
}

// sendPreface writes b on the liveness stream.
func (p *rawPeer) sendPreface(b []byte) {
	_, err := p.live.Write(b)
	require.NoError(p.t, err)
}

// readPreface reads the listener's preface and checks it.
func (p *rawPeer) readPreface() {
	var got [prefaceLen]byte
	_, err := io.ReadFull(p.live, got[:])
	require.NoError(p.t, err)
	require.NoError(p.t, checkPreface(got[:]))
}

// zmtpHandshake runs a ZMTP handshake as a PUSH on stream 0.
func (p *rawPeer) zmtpHandshake() {
	p.zc = zmtp.NewConn(p.data, "raw", "listener", zmtp.Options{NoHeartbeat: true})
	_, err := p.zc.Handshake(testCtx(p.t), &transport.Config{SocketType: "PUSH"})
	require.NoError(p.t, err)
}

// setup does a correct setup: streams, prefaces, ZMTP handshake.
func (p *rawPeer) setup() {
	p.openStreams()
	pre := preface()
	p.sendPreface(pre[:])
	p.readPreface()
	p.zmtpHandshake()
}

// closeCode waits for the connection to end and returns the application
// error code the listener sent.
func (p *rawPeer) closeCode() CloseCode {
	p.t.Helper()
	select {
	case <-p.qc.Context().Done():
	case <-time.After(10 * time.Second):
		p.t.Fatal("the listener did not close the connection")
	}
	ce, ok := connError(context.Cause(p.qc.Context())).(*CloseError)
	require.True(p.t, ok, "connection ended by %v", context.Cause(p.qc.Context()))
	require.True(p.t, ce.Remote)
	return ce.Code
}

// acceptOne accepts one connection on l and runs its Handshake as a PULL
// on a goroutine; the result arrives on the returned channel.
func acceptOne(t testing.TB, l transport.Listener) <-chan acceptResult {
	ch := make(chan acceptResult, 1)
	go func() {
		ctx := testCtx(t)
		c, err := l.Accept(ctx)
		if err != nil {
			ch <- acceptResult{err: err}
			return
		}
		_, err = c.Handshake(ctx, &transport.Config{SocketType: "PULL"})
		ch <- acceptResult{c: c.(*Conn), err: err}
	}()
	return ch
}

type acceptResult struct {
	c   *Conn
	err error
}

// udpAddr is the host:port of a quic:// endpoint.
func udpAddr(endpoint string) string { return endpoint[len("quic://"):] }

func ioReadFull(r io.Reader, b []byte) (int, error) { return io.ReadFull(r, b) }
