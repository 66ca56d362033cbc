//go:build libzmq

package impl

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"syscall"
	"time"

	"github.com/brookmq/brook/cmd/mqbench/internal/config"
	"github.com/brookmq/brook/internal/benchcurve"
	zmq "github.com/pebbe/zmq4"
)

// libzmqPoll is how long a libzmq call blocks before it looks at its
// context again (libzmq calls cannot be interrupted from Go).
const libzmqPoll = 100 * time.Millisecond

// libzmqLinger is the linger of libzmq sockets, as brook's default.
const libzmqLinger = 2 * time.Second

// libzmqImpl runs the workloads on libzmq through github.com/pebbe/zmq4.
type libzmqImpl struct{}

func newLibzmq() (Impl, error) { return libzmqImpl{}, nil }

// Name implements Impl.
func (libzmqImpl) Name() string { return config.ImplLibzmq }

// Version implements Impl.
func (libzmqImpl) Version() string {
	major, minor, patch := zmq.Version()
	return fmt.Sprintf("libzmq %d.%d.%d via github.com/pebbe/zmq4 v1.4.0", major, minor, patch)
}

// Check implements Impl.
func (libzmqImpl) Check(cfg *config.Config) error {
	switch cfg.Transport {
	case "tcp", "ipc", "inproc":
	default:
		return unsupported("libzmq", "transport %s (libzmq has tcp, ipc and inproc)", cfg.Transport)
	}
	return nil
}

// Concurrent implements Impl.
func (libzmqImpl) Concurrent() bool { return false }

// KeepsFrames implements Impl.
func (libzmqImpl) KeepsFrames() bool { return false }

// libzmqType maps a kind to libzmq's socket type.
func libzmqType(k Kind) zmq.Type {
	switch k {
	case Push:
		return zmq.PUSH
	case Pull:
		return zmq.PULL
	case Pub:
		return zmq.PUB
	case Sub:
		return zmq.SUB
	case Req:
		return zmq.REQ
	case Rep:
		return zmq.REP
	case Dealer:
		return zmq.DEALER
	case Router:
		return zmq.ROUTER
	}
	return zmq.PAIR
}

// NewSocket implements Impl.
func (libzmqImpl) NewSocket(ctx context.Context, k Kind, o Options) (Socket, error) {
	s, err := zmq.NewSocket(libzmqType(k))
	if err != nil {
		return nil, fmt.Errorf("libzmq: new %s socket: %w", k, err)
	}
	ls := &libzmqSocket{s: s, poller: zmq.NewPoller()}
	ls.poller.Add(s, zmq.POLLIN)
	set := []func() error{
		func() error { return s.SetLinger(libzmqLinger) },
		func() error { return s.SetRcvtimeo(libzmqPoll) },
		func() error { return s.SetSndtimeo(libzmqPoll) },
	}
	if o.HWM > 0 {
		set = append(set, func() error { return s.SetSndhwm(o.HWM) }, func() error { return s.SetRcvhwm(o.HWM) })
	}
	switch o.Curve {
	case CurveServer:
		set = append(set,
			func() error { return s.SetCurveServer(1) },
			func() error { return s.SetCurveSecretkey(benchcurve.ServerSecret) })
	case CurveClient:
		set = append(set,
			func() error { return s.SetCurveServerkey(benchcurve.ServerPublic) },
			func() error { return s.SetCurvePublickey(benchcurve.ClientPublic) },
			func() error { return s.SetCurveSecretkey(benchcurve.ClientSecret) })
	}
	if k == Sub {
		set = append(set, func() error { return s.SetSubscribe("") })
	}
	for _, f := range set {
		if err := f(); err != nil {
			s.Close()
			return nil, fmt.Errorf("libzmq: set option on %s: %w", k, err)
		}
	}
	return ls, nil
}

// libzmqSocket adapts a pebbe/zmq4 socket. pebbe/zmq4 closes a socket
// from a GC finalizer once it is unreachable, dropping queued messages:
// the workload holds every socket until the run ends, and Close keeps it
// alive until the close itself.
type libzmqSocket struct {
	s      *zmq.Socket
	poller *zmq.Poller
}

// Bind implements Socket.
func (l *libzmqSocket) Bind(endpoint string) (string, error) {
	if err := l.s.Bind(endpoint); err != nil {
		return "", fmt.Errorf("libzmq: bind %s: %w", endpoint, err)
	}
	ep, err := l.s.GetLastEndpoint()
	if err != nil {
		return "", fmt.Errorf("libzmq: last endpoint: %w", err)
	}
	return ep, nil
}

// Connect implements Socket.
func (l *libzmqSocket) Connect(endpoint string) error {
	if err := l.s.Connect(endpoint); err != nil {
		return fmt.Errorf("libzmq: connect %s: %w", endpoint, err)
	}
	return nil
}

func isTimeout(err error) bool {
	return errors.Is(zmq.AsErrno(err), zmq.Errno(syscall.EAGAIN))
}

// Send sends the frames as one message, polling its context every
// libzmqPoll while libzmq blocks.
func (l *libzmqSocket) Send(ctx context.Context, frames [][]byte) error {
	for i, f := range frames {
		flag := zmq.Flag(0)
		if i < len(frames)-1 {
			flag = zmq.SNDMORE
		}
		for {
			_, err := l.s.SendBytes(f, flag)
			if err == nil {
				break
			}
			// Only the first part can time out: libzmq takes the rest of
			// a message once it took its first part.
			if !isTimeout(err) {
				return fmt.Errorf("libzmq: send: %w", err)
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
	}
	return nil
}

// Recv receives one message, polling its context every libzmqPoll
// while libzmq blocks.
func (l *libzmqSocket) Recv(ctx context.Context) ([][]byte, error) {
	for {
		m, err := l.s.RecvMessageBytes(0)
		if err == nil {
			return m, nil
		}
		if !isTimeout(err) {
			return nil, fmt.Errorf("libzmq: recv: %w", err)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
}

// RecvWithin receives one message if one arrives within d (d < 0: as
// Recv), polling the socket: libzmq sockets are used by one goroutine,
// which also sends.
func (l *libzmqSocket) RecvWithin(ctx context.Context, d time.Duration) ([][]byte, bool, error) {
	if d < 0 {
		m, err := l.Recv(ctx)
		return m, err == nil, err
	}
	polled, err := l.poller.Poll(d)
	if err != nil {
		return nil, false, fmt.Errorf("libzmq: poll: %w", err)
	}
	if len(polled) == 0 {
		return nil, false, ctx.Err()
	}
	m, err := l.s.RecvMessageBytes(zmq.DONTWAIT)
	if err != nil {
		if isTimeout(err) {
			return nil, false, ctx.Err()
		}
		return nil, false, fmt.Errorf("libzmq: recv: %w", err)
	}
	return m, true, nil
}

// Close closes the socket, which stays reachable (and so out of
// pebbe/zmq4's finalizer's hands) until then.
func (l *libzmqSocket) Close() error {
	err := l.s.Close()
	runtime.KeepAlive(l.s)
	return err
}
