package quic

import (
	"bufio"
	"encoding/binary"
	"io"
	"net"
	"testing"

	"github.com/quic-go/quic-go"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

// benchConn is what the benchmarks use of a connection, so brook's Conns
// and the bare stream below run the same loops.
type benchConn interface {
	WriteMsg(transport.Msg) error
	Flush() error
	ReadMsg() (transport.Msg, error)
}

// rawStream is the limit brook's QUIC is measured against: one bare
// quic-go stream carrying 4-byte length-prefixed single frames through
// bufio (64 KiB each side), with flow-control windows of up to 16 MiB per
// stream and 32 MiB per connection.
type rawStream struct {
	w   *bufio.Writer
	r   *bufio.Reader
	hdr [4]byte
	buf []byte
}

// rawQUICConfig is quic-go's defaults with large windows, as mqbench's
// raw implementation uses.
func rawQUICConfig() *quic.Config {
	return &quic.Config{MaxStreamReceiveWindow: 16 << 20, MaxConnectionReceiveWindow: 32 << 20}
}

func newRawStream(s *quic.Stream) *rawStream {
	return &rawStream{w: bufio.NewWriterSize(s, 64<<10), r: bufio.NewReaderSize(s, 64<<10)}
}

func (r *rawStream) WriteMsg(m transport.Msg) error {
	binary.BigEndian.PutUint32(r.hdr[:], uint32(len(m.Frames[0])))
	if _, err := r.w.Write(r.hdr[:]); err != nil {
		return err
	}
	_, err := r.w.Write(m.Frames[0])
	return err
}

func (r *rawStream) Flush() error { return r.w.Flush() }

// ReadMsg returns a frame valid until the next ReadMsg.
func (r *rawStream) ReadMsg() (transport.Msg, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r.r, hdr[:]); err != nil {
		return transport.Msg{}, err
	}
	n := int(binary.BigEndian.Uint32(hdr[:]))
	if cap(r.buf) < n {
		r.buf = make([]byte, n)
	}
	if _, err := io.ReadFull(r.r, r.buf[:n]); err != nil {
		return transport.Msg{}, err
	}
	return transport.Msg{Frames: [][]byte{r.buf[:n]}}, nil
}

// rawPair connects two bare streams over loopback.
func rawPair(b *testing.B) (cli, srv benchConn) {
	cli, srv, _ = rawPairConn(b)
	return cli, srv
}

// rawPairConn is rawPair, with the connector's QUIC connection.
func rawPairConn(b *testing.B) (cli, srv benchConn, qc *quic.Conn) {
	b.Helper()
	var err error
	server, client := certs(b)
	server, client = server.Clone(), client.Clone()
	server.NextProtos, client.NextProtos = []string{"bench"}, []string{"bench"}
	ln, err := quic.ListenAddr("127.0.0.1:0", server, rawQUICConfig())
	require.NoError(b, err)
	ctx := testCtx(b)
	type res struct {
		s   *quic.Stream
		err error
	}
	accepted := make(chan res, 1)
	go func() {
		qc, err := ln.Accept(ctx)
		if err != nil {
			accepted <- res{err: err}
			return
		}
		s, err := qc.AcceptStream(ctx)
		accepted <- res{s, err}
	}()
	qc, err = quic.DialAddr(ctx, ln.Addr().(*net.UDPAddr).String(), client, rawQUICConfig())
	require.NoError(b, err)
	s, err := qc.OpenStream()
	require.NoError(b, err)
	// The listener sees the stream with its first byte: a zero-length
	// message that both loops skip by reading it here.
	c := newRawStream(s)
	require.NoError(b, c.WriteMsg(transport.NewMsg(nil)))
	require.NoError(b, c.Flush())
	r := <-accepted
	require.NoError(b, r.err)
	sc := newRawStream(r.s)
	_, err = sc.ReadMsg()
	require.NoError(b, err)
	b.Cleanup(func() {
		_ = qc.CloseWithError(0, "")
		_ = ln.Close()
	})
	return c, sc, qc
}
