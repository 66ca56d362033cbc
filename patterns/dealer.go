package patterns

import "context"

// dealer is DEALER: messages go round-robin over the peers that have room
// (blocking when none has), and are received fair-queued from all peers,
// with no envelope handling at all.
type dealer struct {
	cfg Config
	lb  LB
	fq  *FQ
}

func newDealer(cfg Config) *dealer { return &dealer{cfg: cfg, fq: NewFQ(cfg.RecvHWM)} }

func (s *dealer) AttachEarly() bool { return true }
func (s *dealer) Attach(p Pipe)     { s.lb.Add(p) }
func (s *dealer) Connected(Pipe)    {}
func (s *dealer) Disconnected(Pipe) {}
func (s *dealer) Writable(Pipe)     { s.lb.Writable() }

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

func (s *dealer) Recv(ctx context.Context) (Msg, error) {
	_, m, err := s.fq.Pop(ctx)
	return m, err
}

func (s *dealer) Inbound(ctx context.Context, p Pipe, m Msg) error {
	return s.fq.Push(ctx, p, m)
}
