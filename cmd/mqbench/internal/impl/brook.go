package impl

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/brookmq/brook/cmd/mqbench/internal/config"
	"github.com/brookmq/brook/socket"
)

// brookImpl runs the workloads on brook's socket package.
type brookImpl struct{}

func (brookImpl) Name() string { return config.ImplBrook }

func (brookImpl) Version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Path == "github.com/brookmq/brook" {
		return "brook " + bi.Main.Version
	}
	return "brook (this tree)"
}

func (brookImpl) Check(cfg *config.Config) error { return nil }

func (brookImpl) Concurrent() bool  { return true }
func (brookImpl) KeepsFrames() bool { return true }

var brookTypes = map[Kind]socket.Type{
	Push: socket.Push, Pull: socket.Pull, Pub: socket.Pub, Sub: socket.Sub,
	Req: socket.Req, Rep: socket.Rep, Dealer: socket.Dealer, Router: socket.Router, Pair: socket.Pair,
}

func (b brookImpl) NewSocket(ctx context.Context, k Kind, o Options) (Socket, error) {
	var opts []socket.Option
	if o.HWM > 0 {
		opts = append(opts, socket.WithSendHWM(o.HWM), socket.WithRecvHWM(o.HWM))
	}
	s, err := socket.New(brookTypes[k], opts...)
	if err != nil {
		if errors.Is(err, socket.ErrNotSupported) {
			return nil, fmt.Errorf("%w: brook has no %s socket yet: %w", ErrNotReady, k, err)
		}
		return nil, fmt.Errorf("brook: new %s socket: %w", k, err)
	}
	if k == Sub {
		if err := s.Subscribe(nil); err != nil {
			s.Close()
			return nil, fmt.Errorf("brook: subscribe: %w", err)
		}
	}
	return &brookSocket{s: s}, nil
}

// brookSocket adapts *socket.Socket.
type brookSocket struct {
	s *socket.Socket
}

func (b *brookSocket) Bind(endpoint string) (string, error) {
	if err := b.s.Bind(endpoint); err != nil {
		return "", err
	}
	return b.s.LastEndpoint(), nil
}

func (b *brookSocket) Connect(endpoint string) error { return b.s.Connect(endpoint) }

func (b *brookSocket) Send(ctx context.Context, frames [][]byte) error {
	return b.s.Send(ctx, socket.NewMsg(frames...))
}

func (b *brookSocket) Recv(ctx context.Context) ([][]byte, error) {
	m, err := b.s.Recv(ctx)
	return m.Frames, err
}

func (b *brookSocket) Close() error { return b.s.Close() }

// Dropped counts every message the socket dropped, for any reason.
func (b *brookSocket) Dropped() uint64 {
	var n uint64
	for _, d := range b.s.Stats().Dropped {
		n += d
	}
	return n
}
