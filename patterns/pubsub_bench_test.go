package patterns

import (
	"context"
	"fmt"
	"testing"

	"github.com/brookmq/brook/transport"
)

// countPipe is a pipe that takes every message and only counts it, so a
// benchmark sees the pattern's own cost per message.
type countPipe struct {
	id   uint64
	sent int
}

func (p *countPipe) ID() uint64                    { return p.id }
func (p *countPipe) Peer() transport.PeerInfo      { return transport.PeerInfo{} }
func (p *countPipe) TrySend(Msg) bool              { p.sent++; return true }
func (p *countPipe) SendSubscription([]byte, bool) {}
func (p *countPipe) ResetSubscriptions([][]byte)   {}

// subscribeFrom has p subscribe to topic at s, as its subscription
// message would.
func subscribeFrom(s *pub, p Pipe, topic string) error {
	return s.Inbound(context.Background(), p, transport.SubscriptionMsg([]byte(topic), true), 0)
}

// BenchmarkPubSend measures PUB's routing of one 64-byte message to 1, 10
// and 100 subscribers that all match it: by one prefix each ("one"), or
// each by two prefixes of the message ("two", which the publisher must
// deduplicate). ns/op is per published message.
func BenchmarkPubSend(b *testing.B) {
	for _, topics := range []string{"one", "two"} {
		for _, n := range []int{1, 10, 100} {
			b.Run(fmt.Sprintf("%s/subs%d", topics, n), func(b *testing.B) {
				s := newPub(Config{})
				pipes := make([]*countPipe, n)
				for i := range pipes {
					p := &countPipe{id: uint64(i + 1)}
					pipes[i] = p
					s.Attach(p)
					if err := subscribeFrom(s, p, "data."); err != nil {
						b.Fatal(err)
					}
					if topics == "two" {
						if err := subscribeFrom(s, p, "d"); err != nil {
							b.Fatal(err)
						}
					}
				}
				payload := make([]byte, 64)
				copy(payload, "data.0123")
				m := Msg{Frames: [][]byte{payload}}
				ctx := context.Background()
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					if err := s.Send(ctx, m); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				for _, p := range pipes {
					if p.sent != b.N {
						b.Fatalf("pipe %d got %d of %d", p.id, p.sent, b.N)
					}
				}
			})
		}
	}
}

// BenchmarkSubInbound measures SUB's local filtering of a batch of 64
// 64-byte messages read from one publisher, half of them matching one of
// its prefixes. ns/op is per message.
func BenchmarkSubInbound(b *testing.B) {
	s := newSub(Config{})
	defer s.Close()
	p := &countPipe{id: 1}
	s.Attach(p)
	for _, t := range []string{"data.", "ctl.", "x"} {
		if err := s.Subscribe([]byte(t)); err != nil {
			b.Fatal(err)
		}
	}
	frames := make([][]byte, 64)
	for i := range frames {
		f := make([]byte, 64)
		if i%2 == 0 {
			copy(f, "data.0123")
		} else {
			copy(f, "other.012")
		}
		frames[i] = f
	}
	batch := make([]Msg, len(frames))
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += len(batch) {
		for j := range batch {
			batch[j] = Msg{Frames: frames[j : j+1]}
		}
		if err := s.InboundTagged(p, batch, nil); err != nil {
			b.Fatal(err)
		}
		for range len(batch) / 2 {
			if _, err := s.Recv(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
}
