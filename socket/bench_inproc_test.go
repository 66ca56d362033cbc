package socket_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/brookmq/brook/socket"
)

// chanCapacity is the capacity of the channels the inproc benchmarks
// compare with: what an inproc connection between sockets with the
// default high-water marks holds before Send blocks, SNDHWM + RCVHWM
// (hwm_exact_test.go), so that neither side gets more slack.
const chanCapacity = 2 * socket.DefaultHWM

// BenchmarkInproc streams messages between two goroutines over inproc
// PUSH/PULL and PAIR/PAIR, beside a Go channel of the same capacity
// (chanCapacity) carrying the same Msg values, made the same way, with
// one goroutine sending and one receiving: the channel is the bar
// inproc must clear.
func BenchmarkInproc(b *testing.B) {
	for _, size := range []int{16, 256} {
		payload := make([]byte, size)
		b.Run(fmt.Sprintf("chan/%dB", size), func(b *testing.B) {
			ch := make(chan socket.Msg, chanCapacity)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			go func() {
				for range b.N {
					ch <- socket.NewMsg(payload)
				}
			}()
			for range b.N {
				<-ch
			}
		})
		for _, pair := range [][2]socket.Type{{socket.Push, socket.Pull}, {socket.Pair, socket.Pair}} {
			b.Run(fmt.Sprintf("%s-%s/%dB", pair[0], pair[1], size), func(b *testing.B) {
				benchInproc(b, pair[0], pair[1], payload)
			})
		}
	}
}

// connectedInproc returns a sending socket of type st connected over
// inproc endpoint ep to a receiving one of type rt, with one message of
// payload's size already through (the connection is up); both are closed
// when b ends.
func connectedInproc(b *testing.B, st, rt socket.Type, ep string, payload []byte) (s, r *socket.Socket) {
	ctx := context.Background()
	r, err := socket.New(rt)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.Close() })
	if err := r.Bind(ep); err != nil {
		b.Fatal(err)
	}
	s, err = socket.New(st)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if err := s.Connect(ep); err != nil {
		b.Fatal(err)
	}
	if err := s.Send(ctx, socket.NewMsg(payload)); err != nil {
		b.Fatal(err)
	}
	if _, err := r.Recv(ctx); err != nil {
		b.Fatal(err)
	}
	return s, r
}

func benchInproc(b *testing.B, st, rt socket.Type, payload []byte) {
	ctx := context.Background()
	s, r := connectedInproc(b, st, rt, fmt.Sprintf("inproc://bench-inproc-%s-%d-%d", st, len(payload), b.N), payload)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	b.ResetTimer()
	errc := make(chan error, 1)
	go func() {
		for range b.N {
			if err := s.Send(ctx, socket.NewMsg(payload)); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	for range b.N {
		if _, err := r.Recv(ctx); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
}

// BenchmarkInprocPingPong bounces one message between two goroutines over
// inproc PAIR/PAIR, beside two Go channels doing the same: the round trip
// a PAIR used as a drop-in for a channel pays.
func BenchmarkInprocPingPong(b *testing.B) {
	payload := make([]byte, 16)
	b.Run("chan", func(b *testing.B) {
		ping, pong := make(chan socket.Msg, chanCapacity), make(chan socket.Msg, chanCapacity)
		b.ReportAllocs()
		go func() {
			for range b.N {
				pong <- <-ping
			}
		}()
		for range b.N {
			ping <- socket.NewMsg(payload)
			<-pong
		}
	})
	b.Run("PAIR-PAIR", func(b *testing.B) {
		ctx := context.Background()
		ep := fmt.Sprintf("inproc://bench-pingpong-%d", b.N)
		a, err := socket.New(socket.Pair)
		if err != nil {
			b.Fatal(err)
		}
		defer a.Close()
		if err := a.Bind(ep); err != nil {
			b.Fatal(err)
		}
		z, err := socket.New(socket.Pair)
		if err != nil {
			b.Fatal(err)
		}
		defer z.Close()
		if err := z.Connect(ep); err != nil {
			b.Fatal(err)
		}
		errc := make(chan error, 1)
		go func() {
			for range b.N + 1 {
				m, err := z.Recv(ctx)
				if err == nil {
					err = z.Send(ctx, m)
				}
				if err != nil {
					errc <- err
					return
				}
			}
			errc <- nil
		}()
		roundTrip := func() {
			if err := a.Send(ctx, socket.NewMsg(payload)); err != nil {
				b.Fatal(err)
			}
			if _, err := a.Recv(ctx); err != nil {
				b.Fatal(err)
			}
		}
		roundTrip() // connected
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			roundTrip()
		}
		b.StopTimer()
		if err := <-errc; err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkInprocPingPongSizes bounces one message of 16 B or 256 B
// between two goroutines, beside two Go channels: over a PAIR/PAIR
// connection, and over two PUSH/PULL connections (one each way), so
// every socket type the inproc receive path serves pays its round trip.
func BenchmarkInprocPingPongSizes(b *testing.B) {
	for _, size := range []int{16, 256} {
		payload := make([]byte, size)
		b.Run(fmt.Sprintf("chan/%dB", size), func(b *testing.B) {
			ping, pong := make(chan socket.Msg, chanCapacity), make(chan socket.Msg, chanCapacity)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			go func() {
				for range b.N {
					pong <- <-ping
				}
			}()
			for range b.N {
				ping <- socket.NewMsg(payload)
				<-pong
			}
		})
		for _, pair := range [][2]socket.Type{{socket.Pair, socket.Pair}, {socket.Push, socket.Pull}} {
			b.Run(fmt.Sprintf("%s-%s/%dB", pair[0], pair[1], size), func(b *testing.B) {
				benchPingPong(b, pair[0], pair[1], payload)
			})
		}
	}
}

// benchPingPong times round trips between a and z: a sends on one
// connection of types st to rt, z answers on another (rt's side
// sending back as st), or on the same one when both are PAIR.
func benchPingPong(b *testing.B, st, rt socket.Type, payload []byte) {
	ctx := context.Background()
	newSock := func(t socket.Type) *socket.Socket {
		s, err := socket.New(t)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	}
	link := func(from, to *socket.Socket, name string) {
		ep := fmt.Sprintf("inproc://bench-pingpong-%s-%s-%d-%d", name, st, len(payload), b.N)
		if err := to.Bind(ep); err != nil {
			b.Fatal(err)
		}
		if err := from.Connect(ep); err != nil {
			b.Fatal(err)
		}
	}
	aOut, zIn := newSock(st), newSock(rt)
	link(aOut, zIn, "there")
	zOut, aIn := zIn, aOut
	if st != socket.Pair {
		zOut, aIn = newSock(st), newSock(rt)
		link(zOut, aIn, "back")
	}
	errc := make(chan error, 1)
	go func() {
		for range b.N + 1 {
			m, err := zIn.Recv(ctx)
			if err == nil {
				err = zOut.Send(ctx, m)
			}
			if err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	roundTrip := func() {
		if err := aOut.Send(ctx, socket.NewMsg(payload)); err != nil {
			b.Fatal(err)
		}
		if _, err := aIn.Recv(ctx); err != nil {
			b.Fatal(err)
		}
	}
	roundTrip() // connected
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		roundTrip()
	}
	b.StopTimer()
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
}

// BenchmarkInprocBurst sends a burst of messages and then receives them
// all on one goroutine, over inproc PAIR/PAIR and PUSH/PULL, beside a Go
// channel doing the same: with no goroutine hand-off or wake-up in the
// way, it times what one message costs each side's path alone, which the
// streaming benchmarks mix with the scheduler's work.
func BenchmarkInprocBurst(b *testing.B) {
	const burst = 256 // within the default HWMs: no Send waits
	payload := make([]byte, 16)
	b.Run("chan", func(b *testing.B) {
		ch := make(chan socket.Msg, chanCapacity)
		b.ReportAllocs()
		for i := 0; i < b.N; i += burst {
			n := min(burst, b.N-i)
			for range n {
				ch <- socket.NewMsg(payload)
			}
			for range n {
				<-ch
			}
		}
	})
	for _, pair := range [][2]socket.Type{{socket.Pair, socket.Pair}, {socket.Push, socket.Pull}} {
		b.Run(fmt.Sprintf("%s-%s", pair[0], pair[1]), func(b *testing.B) {
			ctx := context.Background()
			s, r := connectedInproc(b, pair[0], pair[1], fmt.Sprintf("inproc://bench-burst-%s-%d", pair[0], b.N), payload)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i += burst {
				n := min(burst, b.N-i)
				for range n {
					if err := s.Send(ctx, socket.NewMsg(payload)); err != nil {
						b.Fatal(err)
					}
				}
				for range n {
					if _, err := r.Recv(ctx); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
