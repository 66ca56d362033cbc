package patterns

import (
	"context"
	"sync"

	"github.com/brookmq/brook/transport"
)

// sub is SUB and XSUB. Subscriptions are counted prefixes (two Subscribe
// calls need two Unsubscribe calls); each Subscribe is sent to every
// publisher, a cancellation only when a prefix's count reaches zero, as
// libzmq does (publishers hold each subscriber's prefixes as a set).
// Subscriptions travel ahead of the data high-water mark
// (Pipe.SendSubscription), and on every (re)connection the whole set is
// sent again (Pipe.ResetSubscriptions) under the same lock as Subscribe,
// so none is lost or doubled by a race. Publishers filter, but messages
// are filtered here too (a 3.0 publisher, or messages already in flight
// when a cancellation was sent): one no subscription matches is dropped
// with DropUnexpected.
//
// XSUB sends a single-frame message starting with 0x01 or 0x00 upstream
// as a subscription or cancellation (remembered and resent after
// reconnects like Subscribe's), and any other message upstream to every
// publisher as a plain message (dropped with DropHWM for a publisher whose
// queue is full, DropNoPeer with no publisher at all). A SUB cannot send.
type sub struct {
	cfg Config
	x   bool
	fq  *fairQueue

	mu     sync.Mutex
	subs   Trie
	pipes  map[uint64]Pipe
	closed bool
}

// xsub is XSUB: a sub whose application may also send upstream.
type xsub struct{ *sub }

func newSub(cfg Config) *sub   { return newSubOf(cfg, false) }
func newXSub(cfg Config) *xsub { return &xsub{newSubOf(cfg, true)} }

func newSubOf(cfg Config, x bool) *sub {
	return &sub{cfg: cfg, x: x, fq: newFairQueue(cfg.RecvHWM), pipes: make(map[uint64]Pipe)}
}

func (s *sub) Attach(p Pipe) {
	s.mu.Lock()
	s.pipes[p.ID()] = p
	s.mu.Unlock()
}

// Connected queues the whole subscription set in front of p's queue,
// replacing subscription commands queued before the connection.
func (s *sub) Connected(p Pipe) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p.ResetSubscriptions(s.subs.Topics())
}

func (s *sub) Disconnected(Pipe) {}

func (s *sub) Detach(p Pipe) {
	s.mu.Lock()
	delete(s.pipes, p.ID())
	s.mu.Unlock()
	s.fq.Remove(p)
}

func (s *sub) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.fq.Close()
}

// Subscribe counts one more subscription to topic and sends it to every
// publisher.
func (s *sub) Subscribe(topic []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return transport.ErrClosed
	}
	s.subs.Add(topic)
	for _, p := range s.pipes {
		p.SendSubscription(topic, true)
	}
	return nil
}

// Unsubscribe takes one subscription to topic away; the cancellation goes
// to the publishers when it was the last one. Unsubscribing from a topic
// never subscribed is not an error (libzmq accepts it too) and sends
// nothing.
func (s *sub) Unsubscribe(topic []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return transport.ErrClosed
	}
	if _, last := s.subs.Remove(topic); last {
		for _, p := range s.pipes {
			p.SendSubscription(topic, false)
		}
	}
	return nil
}

// Send sends subscriptions and cancellations in message form, or plain
// messages upstream to every publisher.
func (s *xsub) Send(_ context.Context, m Msg) error {
	if topic, subscribe, ok := transport.ParseSubscription(m); ok {
		if subscribe {
			return s.Subscribe(topic)
		}
		return s.Unsubscribe(topic)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return transport.ErrClosed
	}
	if len(s.pipes) == 0 {
		s.cfg.drop(nil, m, DropNoPeer)
		return nil
	}
	for _, p := range s.pipes {
		if !p.TrySend(m) {
			s.cfg.drop(p, m, DropHWM)
		}
	}
	return nil
}

// Unread is the number of received messages the application has not
// taken.
func (s *sub) Unread() int { return s.fq.Len() }

func (s *sub) Recv(ctx context.Context) (Received, error) { return s.fq.Pop(ctx) }

// Inbound queues m if a subscription matches its first frame.
func (s *sub) Inbound(ctx context.Context, p Pipe, m Msg, tag Tag) error {
	var first []byte
	if len(m.Frames) > 0 {
		first = m.Frames[0]
	}
	s.mu.Lock()
	ok := s.subs.Match(first)
	s.mu.Unlock()
	if !ok {
		s.cfg.dropIn(p, m, tag, DropUnexpected)
		return nil
	}
	return s.fq.Push(ctx, p, m, tag)
}
