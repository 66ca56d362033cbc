package zstd

import (
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/tcp"
)

// countingProxy forwards one TCP connection to target and counts the bytes
// going from the dialer to the listener: what the sender puts on the wire.
type countingProxy struct {
	ln      net.Listener
	target  string
	upBytes atomic.Int64
	wg      sync.WaitGroup
}

func newCountingProxy(b *testing.B, target string) *countingProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(b, err)
	p := &countingProxy{ln: ln, target: target}
	p.wg.Add(1)
	go p.serve()
	b.Cleanup(func() {
		_ = ln.Close()
		p.wg.Wait()
	})
	return p
}

func (p *countingProxy) serve() {
	defer p.wg.Done()
	in, err := p.ln.Accept()
	if err != nil {
		return
	}
	out, err := net.Dial("tcp", p.target)
	if err != nil {
		_ = in.Close()
		return
	}
	var pipes sync.WaitGroup
	pipes.Add(2)
	go func() {
		defer pipes.Done()
		_, _ = io.Copy(countingWriter{out, &p.upBytes}, in)
		_ = out.(*net.TCPConn).CloseWrite()
	}()
	go func() {
		defer pipes.Done()
		_, _ = io.Copy(in, out)
		_ = in.(*net.TCPConn).CloseWrite()
	}()
	pipes.Wait()
	_ = in.Close()
	_ = out.Close()
}

// countingWriter adds what it writes to n.
type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// BenchmarkJSON4KiB streams 4 KiB JSON-like messages one way over tcp and
// zstd+tcp in the same run, through a proxy that counts the bytes the
// sender puts on the wire (wire-B/msg). The messages cycle through 64
// different bodies, more than the encode cache holds, so every message is
// compressed.
func BenchmarkJSON4KiB(b *testing.B) {
	bodies := make([][]byte, 64)
	for i := range bodies {
		bodies[i] = jsonLike(4096, uint64(i))
	}
	for _, tc := range []struct {
		name string
		tr   func() transport.Transport
	}{
		{"tcp", func() transport.Transport { return tcp.New() }},
		{"zstd+tcp", func() transport.Transport { return New() }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			srv := tc.tr()
			l, err := srv.Listen(transport.Endpoint{Scheme: srv.Schemes()[0], Address: "127.0.0.1:0"})
			require.NoError(b, err)
			b.Cleanup(func() { _ = l.Close() })
			proxy := newCountingProxy(b, l.Endpoint()[strings.Index(l.Endpoint(), "://")+3:])
			viaProxy := proxyListener{Listener: l, endpoint: "x://" + proxy.ln.Addr().String()}
			push, pull := connect(b, tc.tr(), viaProxy, "PUSH", &transport.Config{SocketType: "PULL"})
			b.SetBytes(4096)
			b.ReportAllocs()
			start := proxy.upBytes.Load()
			b.ResetTimer()
			wrote := make(chan error, 1)
			go func() {
				for i := range b.N {
					if err := push.WriteMsg(transport.NewMsg(bodies[i%len(bodies)])); err != nil {
						wrote <- err
						return
					}
					if i%32 == 31 {
						if err := push.Flush(); err != nil {
							wrote <- err
							return
						}
					}
				}
				wrote <- push.Flush()
			}()
			for range b.N {
				if _, err := pull.ReadMsg(); err != nil {
					b.Fatal(err)
				}
			}
			if err := <-wrote; err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			b.ReportMetric(float64(proxy.upBytes.Load()-start)/float64(b.N), "wire-B/msg")
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// proxyListener is a listener whose Endpoint points at the proxy in front
// of it.
type proxyListener struct {
	transport.Listener
	endpoint string
}

func (p proxyListener) Endpoint() string { return p.endpoint }

// BenchmarkCodec4KiB measures the codec alone on 4 KiB JSON-like parts:
// compression (cache misses) and decompression.
func BenchmarkCodec4KiB(b *testing.B) {
	bodies := make([][]byte, 64)
	for i := range bodies {
		bodies[i] = jsonLike(4096, uint64(i))
	}
	c := newTestCodec(b)
	wires := make([][]byte, len(bodies))
	for i, body := range bodies {
		wires[i] = c.appendEncode(nil, body)
	}
	b.Run("encode", func(b *testing.B) {
		b.SetBytes(4096)
		b.ReportAllocs()
		dst := make([]byte, 0, 8192)
		for i := range b.N {
			dst = c.appendEncode(dst[:0], bodies[i%len(bodies)])
		}
	})
	b.Run("decode", func(b *testing.B) {
		p := newPartCodec(c)
		b.SetBytes(4096)
		b.ReportAllocs()
		for i := range b.N {
			if _, _, err := p.decode(wires[i%len(wires)], -1); err != nil {
				b.Fatal(err)
			}
		}
	})
}
