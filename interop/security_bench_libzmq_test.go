//go:build libzmq

package interop

import (
	"context"
	"fmt"
	"testing"

	zmq "github.com/pebbe/zmq4"

	"github.com/brookmq/brook/curve"
	"github.com/brookmq/brook/socket"
)

// The security benchmarks measure brook with CURVE against libzmq with
// CURVE (through github.com/pebbe/zmq4, the binding mqbench --impl
// libzmq uses) and against both without security, in the same run:
//
//	go test -tags libzmq -run '^$' -bench 'Curve' -benchtime 2s ./interop/
//
// PUSH/PULL over loopback tcp streams b.N messages of 256 B and 64 KiB
// (default high-water marks); REQ/REP does b.N round trips of 256 B;
// Connect does b.N whole connections: a new client socket connects,
// handshakes, sends one message the server receives, and closes.

var curveBenchSizes = []int{256, 64 << 10}

// benchKeys is one server and one client key pair.
type benchKeys struct{ server, client curve.KeyPair }

func newBenchKeys(b *testing.B) benchKeys {
	s, err := curve.NewKeyPair()
	if err != nil {
		b.Fatal(err)
	}
	c, err := curve.NewKeyPair()
	if err != nil {
		b.Fatal(err)
	}
	return benchKeys{s, c}
}

// brookSecurity returns the server and client options of a mechanism.
func (k benchKeys) brook(secure bool) (server, client []socket.Option) {
	if !secure {
		return nil, nil
	}
	return []socket.Option{socket.WithCurveServer(k.server, nil)},
		[]socket.Option{socket.WithCurveClient(k.server.Public, k.client)}
}

// libzmq sets CURVE up on two libzmq sockets.
func (k benchKeys) libzmq(b *testing.B, secure bool, server, client *zmq.Socket) {
	if !secure {
		return
	}
	for _, err := range []error{
		server.SetCurveServer(1), server.SetCurveSecretkey(k.server.Secret.String()),
		client.SetCurveServerkey(k.server.Public.String()),
		client.SetCurvePublickey(k.client.Public.String()), client.SetCurveSecretkey(k.client.Secret.String()),
	} {
		if err != nil {
			b.Fatal(err)
		}
	}
}

func mechName(secure bool) string {
	if secure {
		return "CURVE"
	}
	return "NULL"
}

func BenchmarkCurvePushPull(b *testing.B) {
	keys := newBenchKeys(b)
	for _, size := range curveBenchSizes {
		for _, secure := range []bool{true, false} {
			b.Run(fmt.Sprintf("brook/%s/%dB", mechName(secure), size), func(b *testing.B) {
				srvOpts, cliOpts := keys.brook(secure)
				benchBrookPushPull(b, size, srvOpts, cliOpts)
			})
			b.Run(fmt.Sprintf("libzmq/%s/%dB", mechName(secure), size), func(b *testing.B) {
				benchLibzmqPushPull(b, size, keys, secure)
			})
		}
	}
}

// brookPair returns two brook sockets, the server bound on loopback tcp
// and the client connected to it.
func brookPair(b *testing.B, st, ct socket.Type, srvOpts, cliOpts []socket.Option) (server, client *socket.Socket) {
	server = patBenchSocket(b, st, srvOpts...)
	client = patBenchSocket(b, ct, cliOpts...)
	if err := server.Bind("tcp://127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	if err := client.Connect(server.LastEndpoint()); err != nil {
		b.Fatal(err)
	}
	return server, client
}

func benchBrookPushPull(b *testing.B, size int, srvOpts, cliOpts []socket.Option) {
	ctx := patBenchCtx(b)
	pull, push := brookPair(b, socket.Pull, socket.Push, srvOpts, cliOpts)
	payload := make([]byte, size)
	if err := push.Send(ctx, socket.NewMsg(payload)); err != nil {
		b.Fatal(err)
	}
	if _, err := pull.Recv(ctx); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	errc := make(chan error, 1)
	go func() {
		for range b.N {
			if err := push.Send(ctx, socket.NewMsg(payload)); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	for range b.N {
		m, err := pull.Recv(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if len(m.Frames[0]) != size {
			b.Fatalf("got %d bytes", len(m.Frames[0]))
		}
	}
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// libzmqPair returns two libzmq sockets of the given types, the server
// bound on loopback tcp and the client connected to it.
func libzmqPair(b *testing.B, keys benchKeys, secure bool, st, ct zmq.Type) (server, client *zmq.Socket) {
	var err error
	if server, err = zmq.NewSocket(st); err != nil {
		b.Fatal(err)
	}
	if client, err = zmq.NewSocket(ct); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = client.SetLinger(0)
		_ = server.SetLinger(0)
		_ = client.Close()
		_ = server.Close()
	})
	keys.libzmq(b, secure, server, client)
	if err := server.Bind("tcp://127.0.0.1:*"); err != nil {
		b.Fatal(err)
	}
	ep, err := server.GetLastEndpoint()
	if err != nil {
		b.Fatal(err)
	}
	if err := client.Connect(ep); err != nil {
		b.Fatal(err)
	}
	return server, client
}

func benchLibzmqPushPull(b *testing.B, size int, keys benchKeys, secure bool) {
	pull, push := libzmqPair(b, keys, secure, zmq.PULL, zmq.PUSH)
	payload := make([]byte, size)
	if _, err := push.SendBytes(payload, 0); err != nil {
		b.Fatal(err)
	}
	if _, err := pull.RecvBytes(0); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	errc := make(chan error, 1)
	go func() {
		for range b.N {
			if _, err := push.SendBytes(payload, 0); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	for range b.N {
		m, err := pull.RecvBytes(0)
		if err != nil {
			b.Fatal(err)
		}
		if len(m) != size {
			b.Fatalf("got %d bytes", len(m))
		}
	}
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

func BenchmarkCurveReqRep(b *testing.B) {
	keys := newBenchKeys(b)
	for _, secure := range []bool{true, false} {
		b.Run("brook/"+mechName(secure), func(b *testing.B) {
			ctx, cancel := context.WithCancel(patBenchCtx(b))
			defer cancel()
			srvOpts, cliOpts := keys.brook(secure)
			rep, req := brookPair(b, socket.Rep, socket.Req, srvOpts, cliOpts)
			go func() {
				for {
					m, err := rep.Recv(ctx)
					if err != nil || rep.Send(ctx, m) != nil {
						return
					}
				}
			}()
			payload := make([]byte, 256)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if err := req.Send(ctx, socket.NewMsg(payload)); err != nil {
					b.Fatal(err)
				}
				if _, err := req.Recv(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("libzmq/"+mechName(secure), func(b *testing.B) {
			rep, req := libzmqPair(b, keys, secure, zmq.REP, zmq.REQ)
			done := make(chan struct{})
			go func() {
				defer close(done)
				for {
					m, err := rep.RecvBytes(0)
					if err != nil {
						return
					}
					if _, err := rep.SendBytes(m, 0); err != nil {
						return
					}
					if len(m) == 0 {
						return // the end marker
					}
				}
			}()
			payload := make([]byte, 256)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if _, err := req.SendBytes(payload, 0); err != nil {
					b.Fatal(err)
				}
				if _, err := req.RecvBytes(0); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if _, err := req.SendBytes(nil, 0); err == nil {
				_, _ = req.RecvBytes(0)
			}
			<-done
		})
	}
}

func BenchmarkCurveConnect(b *testing.B) {
	keys := newBenchKeys(b)
	for _, secure := range []bool{true, false} {
		b.Run("brook/"+mechName(secure), func(b *testing.B) {
			ctx := patBenchCtx(b)
			srvOpts, cliOpts := keys.brook(secure)
			pull := patBenchSocket(b, socket.Pull, srvOpts...)
			if err := pull.Bind("tcp://127.0.0.1:0"); err != nil {
				b.Fatal(err)
			}
			msg := []byte("hello")
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				push, err := socket.New(socket.Push, append(cliOpts, socket.WithLinger(0))...)
				if err != nil {
					b.Fatal(err)
				}
				if err := push.Connect(pull.LastEndpoint()); err != nil {
					b.Fatal(err)
				}
				if err := push.Send(ctx, socket.NewMsg(msg)); err != nil {
					b.Fatal(err)
				}
				if _, err := pull.Recv(ctx); err != nil {
					b.Fatal(err)
				}
				_ = push.Close()
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "conns/s")
		})
		b.Run("libzmq/"+mechName(secure), func(b *testing.B) {
			pull, first := libzmqPair(b, keys, secure, zmq.PULL, zmq.PUSH)
			_ = first.Close()
			ep, err := pull.GetLastEndpoint()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				push, err := zmq.NewSocket(zmq.PUSH)
				if err != nil {
					b.Fatal(err)
				}
				_ = push.SetLinger(0)
				if secure {
					_ = push.SetCurveServerkey(keys.server.Public.String())
					_ = push.SetCurvePublickey(keys.client.Public.String())
					_ = push.SetCurveSecretkey(keys.client.Secret.String())
				}
				if err := push.Connect(ep); err != nil {
					b.Fatal(err)
				}
				if _, err := push.Send("hello", 0); err != nil {
					b.Fatal(err)
				}
				if _, err := pull.Recv(0); err != nil {
					b.Fatal(err)
				}
				_ = push.Close()
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "conns/s")
		})
	}
}
