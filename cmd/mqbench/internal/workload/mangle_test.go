package workload_test

import (
	"context"
	"sync"

	"github.com/brookmq/brook/cmd/mqbench/internal/config"
	"github.com/brookmq/brook/cmd/mqbench/internal/impl"
	"github.com/brookmq/brook/cmd/mqbench/internal/payload"
)

// mangler wraps an implementation so that its sockets drop or reorder
// chosen data messages on send: the network misbehaving on purpose, to
// check that mqbench counts it.
type mangler struct {
	impl.Impl
	// drop reports whether data message seq is dropped; hold whether it
	// is held back and sent after the next message.
	drop, hold func(seq uint64) bool
}

func (m *mangler) NewSocket(ctx context.Context, k impl.Kind, o impl.Options) (impl.Socket, error) {
	s, err := m.Impl.NewSocket(ctx, k, o)
	if err != nil {
		return nil, err
	}
	return &mangled{Socket: s, m: m}, nil
}

type mangled struct {
	impl.Socket
	m    *mangler
	mu   sync.Mutex
	held [][]byte
}

func (s *mangled) Send(ctx context.Context, frames [][]byte) error {
	h, err := payload.Parse(frames[len(frames)-1])
	if err != nil || h.Kind != payload.Data {
		return s.Socket.Send(ctx, frames)
	}
	if s.m.drop != nil && s.m.drop(h.Seq) {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m.hold != nil && s.m.hold(h.Seq) {
		s.held = frames
		return nil
	}
	if err := s.Socket.Send(ctx, frames); err != nil {
		return err
	}
	if s.held != nil {
		held := s.held
		s.held = nil
		return s.Socket.Send(ctx, held)
	}
	return nil
}

// mangle returns brook wrapped in a mangler.
func mangle(drop, hold func(uint64) bool) impl.Impl {
	b, _ := impl.New(config.ImplBrook)
	return &mangler{Impl: b, drop: drop, hold: hold}
}
