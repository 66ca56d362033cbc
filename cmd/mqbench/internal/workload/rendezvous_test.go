package workload_test

import (
	"context"
	"fmt"
	"sync"

	"github.com/brookmq/brook/cmd/mqbench/internal/config"
	"github.com/brookmq/brook/cmd/mqbench/internal/impl"
)

// rendezvous is an implementation with no buffering at all: a send
// completes only when a receive takes the message (an unbuffered Go
// channel per endpoint). A receiver that stalls holds its sender back at
// once, which makes coordinated omission easy to see.
type rendezvous struct {
	mu    sync.Mutex
	lines map[string]chan [][]byte
}

func newRendezvous() *rendezvous { return &rendezvous{lines: map[string]chan [][]byte{}} }

func (r *rendezvous) Name() string                   { return "rendezvous" }
func (r *rendezvous) Version() string                { return "test" }
func (r *rendezvous) Check(cfg *config.Config) error { return nil }
func (r *rendezvous) Concurrent() bool               { return true }
func (r *rendezvous) KeepsFrames() bool              { return true }

func (r *rendezvous) NewSocket(ctx context.Context, k impl.Kind, o impl.Options) (impl.Socket, error) {
	return &rendezvousSocket{r: r}, nil
}

type rendezvousSocket struct {
	r    *rendezvous
	line chan [][]byte
}

func (s *rendezvousSocket) Bind(ep string) (string, error) {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	s.line = make(chan [][]byte)
	s.r.lines[ep] = s.line
	return ep, nil
}

func (s *rendezvousSocket) Connect(ep string) error {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	line, ok := s.r.lines[ep]
	if !ok {
		return fmt.Errorf("rendezvous: nothing bound at %s", ep)
	}
	s.line = line
	return nil
}

func (s *rendezvousSocket) Send(ctx context.Context, frames [][]byte) error {
	select {
	case s.line <- frames:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *rendezvousSocket) Recv(ctx context.Context) ([][]byte, error) {
	select {
	case m := <-s.line:
		return m, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *rendezvousSocket) Close() error { return nil }
