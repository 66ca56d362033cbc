package impl

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/brookmq/brook/cmd/mqbench/internal/config"
	"github.com/brookmq/brook/internal/benchcurve"
	"github.com/brookmq/brook/socket"
	"github.com/brookmq/brook/transport/quic"
)

// brookImpl runs the workloads on brook's socket package.
type brookImpl struct {
	// tls makes the TLS configuration of quic:// sockets.
	tls quicTLS
}

func newBrook() *brookImpl {
	return &brookImpl{tls: newQUICTLS()}
}

// Name implements Impl.
func (*brookImpl) Name() string { return config.ImplBrook }

// Version implements Impl.
func (*brookImpl) Version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Path == "github.com/brookmq/brook" {
		return "brook " + bi.Main.Version
	}
	return "brook (this tree)"
}

// Check implements Impl.
func (*brookImpl) Check(cfg *config.Config) error {
	if cfg.Transport == "quic" && cfg.Role != config.Both && cfg.QUIC.SelfSigned() {
		return unsupported("brook", "quic across two processes needs certificate files (--quic-cert, --quic-key, --quic-ca): a self-signed certificate is trusted by its own process only")
	}
	return nil
}

// Concurrent implements Impl.
func (*brookImpl) Concurrent() bool { return true }

// KeepsFrames implements Impl.
func (*brookImpl) KeepsFrames() bool { return true }

// brookType maps a kind to brook's socket type.
func brookType(k Kind) socket.Type {
	switch k {
	case Push:
		return socket.Push
	case Pull:
		return socket.Pull
	case Pub:
		return socket.Pub
	case Sub:
		return socket.Sub
	case Req:
		return socket.Req
	case Rep:
		return socket.Rep
	case Dealer:
		return socket.Dealer
	case Router:
		return socket.Router
	}
	return socket.Pair
}

// NewSocket implements Impl.
func (b *brookImpl) NewSocket(ctx context.Context, k Kind, o Options) (Socket, error) {
	var opts []socket.Option
	if o.HWM > 0 {
		opts = append(opts, socket.WithSendHWM(o.HWM), socket.WithRecvHWM(o.HWM))
	}
	if o.Curve != CurveOff {
		opt, err := benchcurve.Option(o.Curve == CurveServer)
		if err != nil {
			return nil, fmt.Errorf("brook: %w", err)
		}
		opts = append(opts, opt)
	}
	bs := &brookSocket{}
	if o.Transport == "quic" {
		conf, err := b.tls.config(o.QUIC)
		if err != nil {
			return nil, fmt.Errorf("brook: %w", err)
		}
		bs.quic = quic.New(conf)
		opts = append(opts, socket.WithTransport(bs.quic))
	}
	s, err := socket.New(brookType(k), opts...)
	if err != nil {
		bs.closeQUIC()
		if errors.Is(err, socket.ErrNotSupported) {
			return nil, fmt.Errorf("%w: brook has no %s socket yet: %w", ErrNotReady, k, err)
		}
		return nil, fmt.Errorf("brook: new %s socket: %w", k, err)
	}
	bs.s = s
	if k == Sub {
		if err := s.Subscribe(nil); err != nil {
			bs.Close()
			return nil, fmt.Errorf("brook: subscribe: %w", err)
		}
	}
	return bs, nil
}

// brookSocket adapts *socket.Socket. A quic:// socket owns its QUIC
// transport (the socket does not close transports it was given).
type brookSocket struct {
	s    *socket.Socket
	quic *quic.Transport
}

// Bind implements Socket.
func (b *brookSocket) Bind(endpoint string) (string, error) {
	if err := b.s.Bind(endpoint); err != nil {
		return "", err
	}
	return b.s.LastEndpoint(), nil
}

// Connect implements Socket.
func (b *brookSocket) Connect(endpoint string) error { return b.s.Connect(endpoint) }

// Send implements Socket.
func (b *brookSocket) Send(ctx context.Context, frames [][]byte) error {
	return b.s.Send(ctx, socket.NewMsg(frames...))
}

// Recv implements Socket.
func (b *brookSocket) Recv(ctx context.Context) ([][]byte, error) {
	m, err := b.s.Recv(ctx)
	return m.Frames, err
}

// Release implements Releaser: the message's large frames are reused for
// messages received later.
func (b *brookSocket) Release(frames [][]byte) { socket.Msg{Frames: frames}.Release() }

var _ Releaser = (*brookSocket)(nil)

// Close closes the socket, then the QUIC transport it owns.
func (b *brookSocket) Close() error {
	err := b.s.Close()
	return errors.Join(err, b.closeQUIC())
}

func (b *brookSocket) closeQUIC() error {
	if b.quic == nil {
		return nil
	}
	return b.quic.Close()
}

// Dropped counts every message the socket dropped, for any reason.
func (b *brookSocket) Dropped() uint64 {
	var n uint64
	for _, d := range b.s.Stats().Dropped {
		n += d
	}
	return n
}
