// Package impl gives mqbench's workloads one small socket interface over
// the implementations it measures: brook, go-zeromq/zmq4, libzmq (through
// github.com/pebbe/zmq4, build tag libzmq) and a bare Go TCP loop.
package impl

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/brookmq/brook/cmd/mqbench/internal/config"
)

// Errors, matched with errors.Is.
var (
	// ErrUnavailable means the implementation is not compiled into this
	// binary (libzmq without -tags libzmq).
	ErrUnavailable = errors.New("brook: mqbench: implementation not available in this build")
	// ErrUnsupported means the implementation cannot run the workload
	// (a pattern, transport or option it does not have).
	ErrUnsupported = errors.New("brook: mqbench: workload not supported by this implementation")
	// ErrNotReady means the library has not got the socket type yet (brook
	// returns socket.ErrNotSupported for patterns still being built).
	ErrNotReady = errors.New("brook: mqbench: socket type not available in this library version")
)

// Kind is a socket type.
type Kind int

// Kinds.
const (
	Push Kind = iota
	Pull
	Pub
	Sub
	Req
	Rep
	Dealer
	Router
	Pair
)

// String returns the ZeroMQ name of the kind.
func (k Kind) String() string {
	switch k {
	case Push:
		return "PUSH"
	case Pull:
		return "PULL"
	case Pub:
		return "PUB"
	case Sub:
		return "SUB"
	case Req:
		return "REQ"
	case Rep:
		return "REP"
	case Dealer:
		return "DEALER"
	case Router:
		return "ROUTER"
	case Pair:
		return "PAIR"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Socket is one benchmark socket. Unless its Impl is Concurrent, a socket
// is used by one goroutine at a time. Frames returned by Recv may be
// reused by the next Recv; Send takes ownership of its frames when the
// Impl KeepsFrames.
type Socket interface {
	// Bind listens on endpoint and returns the endpoint peers should
	// connect to (with the port chosen for port 0).
	Bind(endpoint string) (string, error)
	// Connect connects to endpoint (asynchronously or not, as the
	// library does).
	Connect(endpoint string) error
	// Send sends one message, blocking while the library blocks, until
	// ctx ends.
	Send(ctx context.Context, frames [][]byte) error
	// Recv receives one message, until ctx ends.
	Recv(ctx context.Context) ([][]byte, error)
	// Close closes the socket; no other call may be running.
	Close() error
}

// Flusher is implemented by sockets that buffer sends until told: the
// workloads call Flush whenever they are about to wait.
type Flusher interface {
	Flush() error
}

// TimedReceiver is implemented by sockets that one goroutine must both
// send and receive on (libzmq's): a client with several requests in
// flight waits for replies only until its next request is due.
type TimedReceiver interface {
	// RecvWithin receives one message if one arrives within d (d < 0:
	// wait as Recv does); ok is false when none came in time.
	RecvWithin(ctx context.Context, d time.Duration) (frames [][]byte, ok bool, err error)
}

// Releaser is implemented by sockets whose received frames can be given
// back to the library for reuse (brook's Msg.Release): the workloads call
// Release once done with a message they received and did not send on.
// After it the frames must not be used.
type Releaser interface {
	Release(frames [][]byte)
}

// Dropper is implemented by sockets that count the messages they dropped
// (a PUB at its high-water mark).
type Dropper interface {
	Dropped() uint64
}

// Options are the socket settings a run asks for.
type Options struct {
	// HWM is the send and receive high-water mark; 0 keeps the default.
	HWM int
	// Transport is the transport the socket will use ("tcp", "quic", ...).
	Transport string
	// QUIC names the certificate files of quic:// sockets (none: a
	// self-signed certificate this process trusts).
	QUIC config.QUIC
	// Curve is the socket's part in CURVE (CurveOff: none).
	Curve CurveRole
	// Linger makes Close wait, up to a bound, until the peer has read
	// what was sent and hung up: the peer runs in another process and
	// nothing else waits for it. Only raw over quic needs it (closing a
	// QUIC connection discards what is still in flight; a TCP socket's
	// kernel delivers it after close).
	Linger bool
}

// CurveRole is a socket's part in a CURVE run (--curve).
type CurveRole int

const (
	// CurveOff is a socket without CURVE.
	CurveOff CurveRole = iota
	// CurveServer is the binding side: it holds the server key pair.
	CurveServer
	// CurveClient is a connecting side: it knows the server's public key.
	CurveClient
)

// noCurve is Check's answer for implementations without CURVE.
func noCurve(impl string, cfg *config.Config) error {
	if cfg.Curve {
		return unsupported(impl, "--curve: no CURVE mechanism")
	}
	return nil
}

// Impl makes sockets of one implementation.
type Impl interface {
	// Name is the --impl name.
	Name() string
	// Version describes the library version for the banner.
	Version() string
	// Check says whether the implementation can run cfg's workload; its
	// error matches ErrUnsupported and says why.
	Check(cfg *config.Config) error
	// NewSocket makes a socket of kind k; ctx bounds its whole life
	// where the library takes a context. A SUB socket comes subscribed
	// to everything.
	NewSocket(ctx context.Context, k Kind, o Options) (Socket, error)
	// Concurrent reports whether one goroutine may Send while another
	// Recvs on the same socket; when it may not, the sockets implement
	// TimedReceiver.
	Concurrent() bool
	// KeepsFrames reports whether Send keeps its frames after returning
	// (then every message needs a fresh buffer).
	KeepsFrames() bool
}

// New returns the implementation called name.
func New(name string) (Impl, error) {
	switch name {
	case config.ImplBrook:
		return newBrook(), nil
	case config.ImplZmq4:
		return zmq4Impl{}, nil
	case config.ImplLibzmq:
		return newLibzmq()
	case config.ImplRaw:
		return newRaw(), nil
	}
	return nil, fmt.Errorf("%w: unknown implementation %q", ErrUnavailable, name)
}

// Available lists the implementations compiled into this binary, brook
// first.
func Available() []string {
	var out []string
	for _, name := range config.Impls() {
		if _, err := New(name); err == nil {
			out = append(out, name)
		}
	}
	return out
}

func unsupported(impl, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrUnsupported, impl, fmt.Sprintf(format, args...))
}
