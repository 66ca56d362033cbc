package socket_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/brookmq/brook/socket"
)

// BenchmarkInproc streams messages between two goroutines over inproc
// PUSH/PULL and PAIR/PAIR, beside a Go channel of the same capacity as the
// sockets' high-water mark carrying the same Msg values: the channel is
// the bar inproc must clear.
func BenchmarkInproc(b *testing.B) {
	const hwm = socket.DefaultHWM
	for _, size := range []int{16, 256} {
		payload := make([]byte, size)
		b.Run(fmt.Sprintf("chan/%dB", size), func(b *testing.B) {
			ch := make(chan socket.Msg, hwm)
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

func benchInproc(b *testing.B, st, rt socket.Type, payload []byte) {
	ctx := context.Background()
	ep := fmt.Sprintf("inproc://bench-inproc-%s-%d-%d", st, len(payload), b.N)
	r, err := socket.New(rt)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	if err := r.Bind(ep); err != nil {
		b.Fatal(err)
	}
	s, err := socket.New(st)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.Connect(ep); err != nil {
		b.Fatal(err)
	}
	if err := s.Send(ctx, socket.NewMsg(payload)); err != nil {
		b.Fatal(err)
	}
	if _, err := r.Recv(ctx); err != nil {
		b.Fatal(err)
	}
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
		ping, pong := make(chan socket.Msg, socket.DefaultHWM), make(chan socket.Msg, socket.DefaultHWM)
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
