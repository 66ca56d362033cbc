package patterns

import (
	"context"
	"sync"
)

// pair talks to exactly one peer: the first pipe attached. Further pipes
// are refused until that one is detached, as in libzmq.
type pair struct {
	cfg  Config
	mu   sync.Mutex
	peer Pipe
	lb   loadBalancer
	fq   *fairQueue
}

func newPair(cfg Config) *pair { return &pair{cfg: cfg, fq: newFairQueue(cfg.RecvHWM)} }

// Accepts reports whether p may join: PAIR admits one peer at a time.
func (s *pair) Accepts(p Pipe) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peer == nil || s.peer.ID() == p.ID()
}

func (s *pair) Attach(p Pipe) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.peer != nil {
		return
	}
	s.peer = p
	s.lb.Add(p)
}

func (s *pair) is(p Pipe) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peer != nil && s.peer.ID() == p.ID()
}

func (s *pair) Detach(p Pipe) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.peer != nil && s.peer.ID() == p.ID() {
		s.peer = nil
		s.lb.Remove(p)
		s.fq.Remove(p)
	}
}

// Unread is the number of received messages the application has not taken.
func (s *pair) Unread() int { return s.fq.Len() }

func (s *pair) Writable(Pipe) { s.lb.Writable() }

func (s *pair) Close() {
	s.lb.Close()
	s.fq.Close()
}

func (s *pair) Send(ctx context.Context, m Msg) error {
	_, err := s.lb.Send(ctx, m)
	return err
}

func (s *pair) Recv(ctx context.Context) (Received, error) { return s.fq.Pop(ctx) }

func (s *pair) Inbound(ctx context.Context, p Pipe, m Msg, tag Tag) error {
	if !s.is(p) {
		s.cfg.dropIn(p, m, tag, DropUnexpected)
		return nil
	}
	return s.fq.Push(ctx, p, m, tag)
}
