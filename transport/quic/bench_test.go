package quic

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/internal/bufpool"
	"github.com/brookmq/brook/transport/tcp"
)

// benchKinds are the connections every benchmark compares in one run:
// brook over tcp, brook over quic, and the bare quic-go stream that is
// brook's QUIC limit.
var benchKinds = []string{"tcp", "quic", "rawquic"}

// benchPair returns a handshaken PUSH (dialer) and PULL (listener) over
// the named kind of connection (benchKinds).
func benchPair(b *testing.B, kind string) (push, pull benchConn) {
	b.Helper()
	if kind == "rawquic" {
		return rawPair(b)
	}
	var srv, cli transport.Transport
	endpoint := "tcp://127.0.0.1:0"
	switch kind {
	case "tcp":
		srv, cli = tcp.New(), tcp.New()
	case "quic":
		s, c := testTransports(b)
		srv, cli = s, c
		endpoint = "quic://127.0.0.1:0"
	}
	l, err := srv.Listen(ep(b, endpoint))
	require.NoError(b, err)
	b.Cleanup(func() { _ = l.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	accepted := make(chan transport.Conn, 1)
	go func() {
		c, err := l.Accept(ctx)
		if err == nil {
			_, err = c.Handshake(ctx, &transport.Config{SocketType: "PULL"})
		}
		if err != nil {
			accepted <- nil
			return
		}
		accepted <- c
	}()
	addr := l.Endpoint()[strings.Index(l.Endpoint(), "://")+3:]
	dialed, err := cli.Dial(ctx, transport.Endpoint{Scheme: kind, Address: addr})
	require.NoError(b, err)
	_, err = dialed.Handshake(ctx, &transport.Config{SocketType: "PUSH"})
	require.NoError(b, err)
	got := <-accepted
	require.NotNil(b, got)
	b.Cleanup(func() { closeBoth(dialed, got) })
	return dialed, got
}

// BenchmarkThroughput streams messages one way, flushing every 64 as a
// socket's writer batches, tcp and quic in the same run.
func BenchmarkThroughput(b *testing.B) {
	for _, size := range []int{64, 1024} {
		for _, kind := range benchKinds {
			b.Run(fmt.Sprintf("%s/%dB", kind, size), func(b *testing.B) {
				benchThroughput(b, kind, size, false)
			})
		}
	}
}

// BenchmarkThroughputRelease is BenchmarkThroughput with every message
// given back with Release once read, as a receiver that recycles does:
// allocs/op and B/op show what the reader still allocates.
//
//	go test -run '^$' -bench ThroughputRelease -benchmem ./transport/quic/
func BenchmarkThroughputRelease(b *testing.B) {
	for _, size := range []int{64, 1024} {
		for _, kind := range benchKinds {
			b.Run(fmt.Sprintf("%s/%dB", kind, size), func(b *testing.B) {
				bufpool.SetActive(true)
				defer bufpool.SetActive(false)
				benchThroughput(b, kind, size, true)
			})
		}
	}
}

// benchThroughput streams b.N messages of size bytes over the named kind
// of connection, releasing each once read if release says so.
func benchThroughput(b *testing.B, kind string, size int, release bool) {
	push, pull := benchPair(b, kind)
	payload := make([]byte, size)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	wrote := make(chan error, 1)
	go func() {
		for i := range b.N {
			if err := push.WriteMsg(transport.NewMsg(payload)); err != nil {
				wrote <- err
				return
			}
			if i%64 == 63 {
				if err := push.Flush(); err != nil {
					wrote <- err
					return
				}
			}
		}
		wrote <- push.Flush()
	}()
	for range b.N {
		m, err := pull.ReadMsg()
		if err != nil {
			b.Fatal(err)
		}
		if release {
			m.Release()
		}
	}
	if err := <-wrote; err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkRoundTrip measures request/reply latency (REQ/REP-like): one
// 64-byte message each way per operation.
func BenchmarkRoundTrip(b *testing.B) {
	for _, kind := range benchKinds {
		b.Run(kind, func(b *testing.B) {
			req, rep := benchPair(b, kind)
			payload := make([]byte, 64)
			b.ReportAllocs()
			b.ResetTimer()
			done := make(chan error, 1)
			go func() {
				for range b.N {
					m, err := rep.ReadMsg()
					if err == nil {
						err = rep.WriteMsg(m)
					}
					if err == nil {
						err = rep.Flush()
					}
					if err != nil {
						done <- err
						return
					}
				}
				done <- nil
			}()
			for range b.N {
				if err := req.WriteMsg(transport.NewMsg(payload)); err != nil {
					b.Fatal(err)
				}
				if err := req.Flush(); err != nil {
					b.Fatal(err)
				}
				if _, err := req.ReadMsg(); err != nil {
					b.Fatal(err)
				}
			}
			if err := <-done; err != nil {
				b.Fatal(err)
			}
		})
	}
}
