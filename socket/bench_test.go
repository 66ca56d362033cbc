package socket_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/brookmq/brook/socket"
	zmq4 "github.com/go-zeromq/zmq4"
)

// The PUSH/PULL throughput benchmarks run brook over each transport, and
// in the same run go-zeromq/zmq4 and a bare Go TCP loop on the same
// workload, so results can be read as ratios on a noisy shared machine.

var benchSizes = []int{64, 1024}

func BenchmarkPushPull(b *testing.B) {
	for _, size := range benchSizes {
		for _, tr := range []string{"tcp", "ipc", "inproc"} {
			b.Run(fmt.Sprintf("brook/%s/%dB", tr, size), func(b *testing.B) {
				var ep string
				switch tr {
				case "tcp":
					ep = "tcp://127.0.0.1:0"
				case "ipc":
					ep = "ipc://" + filepath.Join(b.TempDir(), "b.sock")
				case "inproc":
					ep = fmt.Sprintf("inproc://bench-%s-%d-%d", tr, size, b.N)
				}
				benchBrook(b, ep, size)
			})
		}
		b.Run(fmt.Sprintf("zmq4/tcp/%dB", size), func(b *testing.B) { benchZmq4(b, size) })
		b.Run(fmt.Sprintf("bare/tcp/%dB", size), func(b *testing.B) { benchBare(b, size) })
	}
}

func benchBrook(b *testing.B, ep string, size int) {
	ctx := context.Background()
	pull, err := socket.New(socket.Pull)
	if err != nil {
		b.Fatal(err)
	}
	defer pull.Close()
	if err := pull.Bind(ep); err != nil {
		b.Fatal(err)
	}
	push, err := socket.New(socket.Push)
	if err != nil {
		b.Fatal(err)
	}
	defer push.Close()
	if err := push.Connect(pull.LastEndpoint()); err != nil {
		b.Fatal(err)
	}
	payload := make([]byte, size)
	frames := [][]byte{payload}
	// Warm up: one round trip through the connection.
	if err := push.Send(ctx, socket.Msg{Frames: frames}); err != nil {
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
		for i := 0; i < b.N; i++ {
			if err := push.Send(ctx, socket.Msg{Frames: frames}); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	for i := 0; i < b.N; i++ {
		if _, err := pull.Recv(ctx); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

func benchZmq4(b *testing.B, size int) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pull := zmq4.NewPull(ctx)
	defer pull.Close()
	if err := pull.Listen("tcp://127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	push := zmq4.NewPush(ctx)
	defer push.Close()
	if err := push.Dial("tcp://" + pull.Addr().String()); err != nil {
		b.Fatal(err)
	}
	payload := make([]byte, size)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	errc := make(chan error, 1)
	go func() {
		for i := 0; i < b.N; i++ {
			if err := push.Send(zmq4.NewMsg(payload)); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	for i := 0; i < b.N; i++ {
		if _, err := pull.Recv(); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// benchBare is the practical ceiling: length-prefixed frames through
// bufio over one TCP connection, flushed only when the buffer fills.
func benchBare(b *testing.B, size int) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	wc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer wc.Close()
	rc, ok := <-accepted
	if !ok {
		b.Fatal("accept failed")
	}
	defer rc.Close()
	payload := make([]byte, size)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	errc := make(chan error, 1)
	go func() {
		w := bufio.NewWriterSize(wc, 64<<10)
		var hdr [4]byte
		for i := 0; i < b.N; i++ {
			binary.BigEndian.PutUint32(hdr[:], uint32(size))
			w.Write(hdr[:])
			if _, err := w.Write(payload); err != nil {
				errc <- err
				return
			}
		}
		errc <- w.Flush()
	}()
	r := bufio.NewReaderSize(rc, 64<<10)
	var hdr [4]byte
	buf := make([]byte, size)
	for i := 0; i < b.N; i++ {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			b.Fatal(err)
		}
		n := binary.BigEndian.Uint32(hdr[:])
		if _, err := io.ReadFull(r, buf[:n]); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkPubFanout publishes 64-byte messages from one PUB over tcp to
// 1, 10 and 100 SUBs with no HWM (nothing dropped), each SUB receiving in its
// own goroutine: ns/op is per published message, msgs/s is delivered
// per subscriber.
func BenchmarkPubFanout(b *testing.B) {
	for _, subs := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("subs%d", subs), func(b *testing.B) { benchFanout(b, subs) })
	}
	// The floor for one subscriber: PUSH/PULL set up the same way. A PUB
	// with one SUB should cost this plus a prefix match.
	b.Run("push1", benchFanoutPush)
}

// benchFanoutPush is benchFanout(b, 1) with PUSH and PULL.
func benchFanoutPush(b *testing.B) {
	ctx := context.Background()
	push, err := socket.New(socket.Push, socket.WithSendHWM(0))
	if err != nil {
		b.Fatal(err)
	}
	defer push.Close()
	if err := push.Bind("tcp://127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	pull, err := socket.New(socket.Pull, socket.WithRecvHWM(0))
	if err != nil {
		b.Fatal(err)
	}
	defer pull.Close()
	if err := pull.Connect(push.LastEndpoint()); err != nil {
		b.Fatal(err)
	}
	if err := push.Send(ctx, socket.NewMsg([]byte("p"))); err != nil {
		b.Fatal(err)
	}
	if _, err := pull.Recv(ctx); err != nil {
		b.Fatal(err)
	}
	payload := make([]byte, 64)
	payload[0] = 'd'
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	b.ResetTimer()
	errc := make(chan error, 1)
	go func() {
		for got := 0; got < b.N; got++ {
			if _, err := pull.Recv(ctx); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	for i := 0; i < b.N; i++ {
		if err := push.Send(ctx, socket.Msg{Frames: [][]byte{payload}}); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

func benchFanout(b *testing.B, n int) {
	ctx := context.Background()
	pub, subs := fanoutSockets(b, n)
	payload := fanoutPayload(b)
	errc := make(chan error, n)
	for _, s := range subs {
		go func() { errc <- recvData(ctx, s, b.N, nil) }()
	}
	for i := 0; i < b.N; i++ {
		if err := pub.Send(ctx, socket.Msg{Frames: [][]byte{payload}}); err != nil {
			b.Fatal(err)
		}
	}
	for range subs {
		if err := <-errc; err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// fanoutPayload returns the 64-byte data message the fan-out benchmarks
// publish (its first byte tells it from a leftover probe), and starts the
// benchmark's timer.
func fanoutPayload(b *testing.B) []byte {
	payload := make([]byte, 64)
	payload[0] = 'd'
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	b.ResetTimer()
	return payload
}

// recvData receives on s until n data messages have come, skipping
// leftover probes, and calls got (if not nil) for each.
func recvData(ctx context.Context, s *socket.Socket, n int, got func()) error {
	for i := 0; i < n; {
		m, err := s.Recv(ctx)
		if err != nil {
			return err
		}
		if m.Frames[0][0] == 'd' {
			i++
			if got != nil {
				got()
			}
		}
	}
	return nil
}

// BenchmarkPubLockstep publishes 64-byte messages from one PUB over tcp
// to 1, 10 and 100 SUBs one at a time, the next once every SUB has the
// last: a paced publisher, whose writers are parked when it sends (where
// a stream keeps them busy). ns/op is per published message.
func BenchmarkPubLockstep(b *testing.B) {
	for _, subs := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("subs%d", subs), func(b *testing.B) { benchLockstep(b, subs) })
	}
}

func benchLockstep(b *testing.B, n int) {
	ctx := context.Background()
	pub, subs := fanoutSockets(b, n)
	payload := fanoutPayload(b)
	got := make(chan error, n)
	for _, s := range subs {
		go func() {
			if err := recvData(ctx, s, b.N, func() { got <- nil }); err != nil {
				got <- err
			}
		}()
	}
	for i := 0; i < b.N; i++ {
		if err := pub.Send(ctx, socket.Msg{Frames: [][]byte{payload}}); err != nil {
			b.Fatal(err)
		}
		for range subs {
			if err := <-got; err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
}

// fanoutSockets returns a PUB bound over tcp with no HWM and n SUBs with
// no HWM connected to it, each subscribed to "d" (data) and "p" (probes)
// and known to have its subscriptions at the PUB; b closes them all.
func fanoutSockets(b *testing.B, n int) (*socket.Socket, []*socket.Socket) {
	ctx := context.Background()
	pub, err := socket.New(socket.Pub, socket.WithSendHWM(0))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { pub.Close() })
	if err := pub.Bind("tcp://127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	subs := make([]*socket.Socket, n)
	for i := range subs {
		s, err := socket.New(socket.Sub, socket.WithRecvHWM(0))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		if err := s.Subscribe([]byte("d")); err != nil {
			b.Fatal(err)
		}
		if err := s.Subscribe([]byte("p")); err != nil {
			b.Fatal(err)
		}
		if err := s.Connect(pub.LastEndpoint()); err != nil {
			b.Fatal(err)
		}
		subs[i] = s
	}
	// Probe until every SUB has one: all subscriptions have arrived.
	for _, s := range subs {
		for {
			if err := pub.Send(ctx, socket.NewMsg([]byte("p"))); err != nil {
				b.Fatal(err)
			}
			rctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
			_, err := s.Recv(rctx)
			cancel()
			if err == nil {
				break
			}
		}
	}
	return pub, subs
}
