package patterns

import "context"

// dealer is DEALER: messages go round-robin over the peers that have room
// (blocking when none has), and are received fair-queued from all peers,
// with no envelope handling at all.
type dealer struct {
	cfg Config
	lb  loadBalancer
	fq  *fairQueue
}

func newDealer(cfg Config) *dealer { return &dealer{cfg: cfg, fq: newFairQueue(cfg.RecvHWM)} }

func (s *dealer) Attach(p Pipe) { s.lb.Add(p) }
func (s *dealer) Writable(Pipe) { s.lb.Writable() }

func (s *dealer) Detach(p Pipe) {
	s.lb.Remove(p)
	s.fq.Remove(p)
}

func (s *dealer) Close() {
	s.lb.Close()
	s.fq.Close()
}

func (s *dealer) Send(ctx context.Context, m Msg) error {
	_, err := s.lb.Send(ctx, m)
	return err
}

// Unread is the number of received messages the application has not
// taken.
func (s *dealer) Unread() int { return s.fq.Len() }

func (s *dealer) Recv(ctx context.Context) (Received, error) { return s.fq.Pop(ctx) }

func (s *dealer) Inbound(ctx context.Context, p Pipe, m Msg, tag Tag) error {
	return s.fq.Push(ctx, p, m, tag)
}
