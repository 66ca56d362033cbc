package patterns

import (
	"context"
)

// push sends round-robin over ready peers and never receives.
type push struct {
	cfg Config
	lb  loadBalancer
}

func newPush(cfg Config) *push { return &push{cfg: cfg} }

func (s *push) Attach(p Pipe) { s.lb.Add(p) }
func (s *push) Detach(p Pipe) { s.lb.Remove(p) }
func (s *push) Writable(Pipe) { s.lb.Writable() }
func (s *push) Close()        { s.lb.Close() }

func (s *push) Send(ctx context.Context, m Msg) error {
	_, err := s.lb.Send(ctx, m)
	return err
}

// Inbound drops anything a PULL peer sends: PULL sockets never send, so
// it can only be a misbehaving peer.
func (s *push) Inbound(_ context.Context, p Pipe, m Msg, tag Tag) error {
	s.cfg.dropIn(p, m, tag, DropUnexpected)
	return nil
}

// pull fair-queues messages from all peers and never sends.
type pull struct {
	cfg Config
	fq  *fairQueue
}

func newPull(cfg Config) *pull { return &pull{cfg: cfg, fq: newFairQueue(cfg.RecvHWM)} }

func (s *pull) Attach(Pipe)   {}
func (s *pull) Detach(p Pipe) { s.fq.Remove(p) }
func (s *pull) Close()        { s.fq.Close() }

// Unread is the number of received messages the application has not taken.
func (s *pull) Unread() int { return s.fq.Len() }

func (s *pull) Recv(ctx context.Context) (Received, error) { return s.fq.Pop(ctx) }

func (s *pull) Inbound(ctx context.Context, p Pipe, m Msg, tag Tag) error {
	return s.fq.Push(ctx, p, m, tag)
}
