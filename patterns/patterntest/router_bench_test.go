package patterntest_test

import (
	"context"
	"testing"

	"github.com/brookmq/brook/patterns"
	"github.com/brookmq/brook/patterns/patterntest"
)

// BenchmarkRouterEcho is the ROUTER's share of a round trip at many
// connections: a message in from one of 5,000 peers, taken by the
// application and routed back to its sender by routing id.
func BenchmarkRouterEcho(b *testing.B) {
	const peers = 5000
	pat, err := patterns.New(patterns.Router, patterns.Config{RecvHWM: 1000})
	if err != nil {
		b.Fatal(err)
	}
	defer pat.Close()
	pipes := make([]*patterntest.Pipe, peers)
	for i := range pipes {
		pipes[i] = patterntest.NewPipe(uint64(i+1), "DEALER", nil)
		patterntest.Connect(pat, pipes[i])
	}
	r := pat.(patterns.Receiver)
	s := pat.(patterns.Sender)
	ctx := context.Background()
	body := []byte("0123456789abcdef")
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		p := pipes[i%peers]
		if err := pat.Inbound(ctx, p, patterns.Msg{Frames: [][]byte{body}}, 0); err != nil {
			b.Fatal(err)
		}
		in, err := r.Recv(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Send(ctx, in.Msg); err != nil {
			b.Fatal(err)
		}
		if p.Queued() != 1 {
			b.Fatal("the reply went elsewhere")
		}
		p.Take()
	}
}
