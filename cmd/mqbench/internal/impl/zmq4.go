package impl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"strings"
	"time"

	"github.com/brookmq/brook/cmd/mqbench/internal/config"
	"github.com/go-zeromq/zmq4"
)

// zmq4Impl runs the workloads on github.com/go-zeromq/zmq4.
type zmq4Impl struct{}

// Name implements Impl.
func (zmq4Impl) Name() string { return config.ImplZmq4 }

// Version implements Impl.
func (zmq4Impl) Version() string { return "github.com/go-zeromq/zmq4 v0.17.0" }

// Check implements Impl.
func (zmq4Impl) Check(cfg *config.Config) error {
	if err := noCurve("zmq4", cfg); err != nil {
		return err
	}
	switch cfg.Transport {
	case "tcp", "ipc":
		return nil
	case "inproc":
		// Seen with v0.17.0: every run over inproc with 256-byte messages
		// or larger (ZMTP's long frames) read a garbage frame length and
		// died allocating 256 TiB.
		for _, size := range cfg.Sizes {
			if size > zmq4InprocMaxSize {
				return unsupported("zmq4", "inproc with --size %d: go-zeromq/zmq4's inproc transport corrupts messages over %d bytes (a frame length turns to garbage and the process dies allocating it); use tcp or ipc", size, zmq4InprocMaxSize)
			}
		}
		return nil
	}
	return unsupported("zmq4", "transport %s (go-zeromq/zmq4 has tcp, ipc and inproc)", cfg.Transport)
}

// zmq4InprocMaxSize is the largest message zmq4's inproc transport
// carries intact (ZMTP's short frame form).
const zmq4InprocMaxSize = 255

// Concurrent implements Impl.
func (zmq4Impl) Concurrent() bool { return true }

// KeepsFrames implements Impl.
func (zmq4Impl) KeepsFrames() bool { return true }

// zmq4Linger is how long Close waits after a REP or PUB sent anything:
// zmq4 queues their sends to a writer goroutine and drops what is still
// queued when it closes, with no linger option, so a process that sends
// a last reply and closes would lose it.
const zmq4Linger = 200 * time.Millisecond

// zmq4DialRetry is how often a connecting zmq4 socket retries; it retries
// until its context ends, as brook and libzmq do.
const zmq4DialRetry = 20 * time.Millisecond

// NewSocket implements Impl.
func (zmq4Impl) NewSocket(ctx context.Context, k Kind, o Options) (Socket, error) {
	opts := []zmq4.Option{
		zmq4.WithLogger(log.New(io.Discard, "", 0)),
		zmq4.WithDialerRetry(zmq4DialRetry),
		zmq4.WithDialerMaxRetries(-1),
	}
	var s zmq4.Socket
	switch k {
	case Push:
		s = zmq4.NewPush(ctx, opts...)
	case Pull:
		s = zmq4.NewPull(ctx, opts...)
	case Pub:
		s = zmq4.NewPub(ctx, opts...)
	case Sub:
		s = zmq4.NewSub(ctx, opts...)
	case Req:
		s = zmq4.NewReq(ctx, opts...)
	case Rep:
		s = zmq4.NewRep(ctx, opts...)
	case Dealer:
		s = zmq4.NewDealer(ctx, opts...)
	case Router:
		s = zmq4.NewRouter(ctx, opts...)
	case Pair:
		s = zmq4.NewPair(ctx, opts...)
	default:
		return nil, fmt.Errorf("zmq4: socket kind %s", k)
	}
	if o.HWM > 0 && k == Pub {
		// Only zmq4's PUB has a high-water mark; its other types queue
		// without limit.
		if err := s.SetOption(zmq4.OptionHWM, o.HWM); err != nil {
			s.Close()
			return nil, fmt.Errorf("zmq4: set HWM: %w", err)
		}
	}
	if k == Sub {
		if err := s.SetOption(zmq4.OptionSubscribe, ""); err != nil {
			s.Close()
			return nil, fmt.Errorf("zmq4: subscribe: %w", err)
		}
	}
	return &zmq4Socket{s: s, queues: k == Rep || k == Pub}, nil
}

// zmq4Socket adapts zmq4.Socket. Its blocking calls end when the context
// given to NewSocket ends.
type zmq4Socket struct {
	s      zmq4.Socket
	queues bool // sends go through a writer goroutine (REP, PUB)
	sent   bool
}

// Bind listens on endpoint; for tcp it reports the port zmq4 got.
func (z *zmq4Socket) Bind(endpoint string) (string, error) {
	if err := z.s.Listen(endpoint); err != nil {
		return "", err
	}
	if strings.HasPrefix(endpoint, "tcp://") {
		return "tcp://" + z.s.Addr().String(), nil
	}
	return endpoint, nil
}

// Connect dials endpoint, retrying until it answers (zmq4 dials
// synchronously).
func (z *zmq4Socket) Connect(endpoint string) error { return z.s.Dial(endpoint) }

// Send sends one message. zmq4's Send takes no context: it ends with
// the context given to NewSocket.
func (z *zmq4Socket) Send(ctx context.Context, frames [][]byte) error {
	z.sent = true
	if len(frames) == 1 {
		return z.s.Send(zmq4.NewMsg(frames[0]))
	}
	return z.s.Send(zmq4.NewMsgFrom(frames...))
}

// Recv receives one message. zmq4's Recv takes no context: it ends with
// the context given to NewSocket.
func (z *zmq4Socket) Recv(ctx context.Context) ([][]byte, error) {
	m, err := z.s.Recv()
	return m.Frames, err
}

// Close closes the socket, after zmq4Linger if it queued sends. zmq4
// reports connections its peer closed first as errors (net.ErrClosed);
// they are not failures of the run.
func (z *zmq4Socket) Close() error {
	if z.queues && z.sent {
		time.Sleep(zmq4Linger)
	}
	if err := z.s.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}
