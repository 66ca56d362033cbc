package workload_test

import (
	"context"
	"errors"
	"time"

	"github.com/brookmq/brook/cmd/mqbench/internal/config"
	"github.com/brookmq/brook/cmd/mqbench/internal/impl"
)

// serial wraps brook as if its sockets, like libzmq's, could not send
// and receive from two goroutines at once: the workloads must then use
// their single-goroutine, polling path.
type serial struct{ impl.Impl }

func newSerial() *serial {
	b, _ := impl.New(config.ImplBrook)
	return &serial{Impl: b}
}

func (s *serial) Concurrent() bool { return false }

func (s *serial) NewSocket(ctx context.Context, k impl.Kind, o impl.Options) (impl.Socket, error) {
	sock, err := s.Impl.NewSocket(ctx, k, o)
	if err != nil {
		return nil, err
	}
	return &serialSocket{Socket: sock}, nil
}

type serialSocket struct{ impl.Socket }

func (s *serialSocket) RecvWithin(ctx context.Context, d time.Duration) ([][]byte, bool, error) {
	if d < 0 {
		m, err := s.Recv(ctx)
		return m, err == nil, err
	}
	c, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	m, err := s.Recv(c)
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		return nil, false, nil
	}
	return m, err == nil, err
}
