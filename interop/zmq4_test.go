package interop

import (
	"context"
	"io"
	"log"
	"testing"

	zmq4 "github.com/go-zeromq/zmq4"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/socket"
)

// newZmq4 makes a go-zeromq/zmq4 socket that logs nothing and is closed
// when the test ends. zmq4 sockets need a context; its cancellation is
// what stops their goroutines. With every socket closed and every message
// it received read, zmq4 v0.17.0 left no goroutine behind in our runs
// (-race, -count=20), so TestMain ignores none of its functions.
func newZmq4(t *testing.T, mk func(context.Context, ...zmq4.Option) zmq4.Socket) zmq4.Socket {
	ctx, cancel := context.WithCancel(context.Background())
	// zmq4's Send waits up to 5 minutes by default: bound it by the
	// test's own timeout.
	s := mk(ctx, zmq4.WithLogger(log.New(io.Discard, "", 0)), zmq4.WithTimeout(testTimeout))
	t.Cleanup(func() {
		s.Close()
		cancel()
	})
	return s
}

// zmq4Endpoint returns what a zmq4 socket listens on, in ZeroMQ form.
// zmq4 reports a net.Addr, not the resolved endpoint.
func zmq4Endpoint(t *testing.T, s zmq4.Socket, scheme string) string {
	t.Helper()
	addr := s.Addr()
	require.NotNil(t, addr, "zmq4 socket has no address")
	if scheme == "ipc" {
		return "ipc://" + addr.String()
	}
	return "tcp://" + addr.String()
}

// TestZmq4PushPull runs brook against go-zeromq/zmq4 v0.17.0 (pure Go):
// brook PUSH -> zmq4 PULL and zmq4 PUSH -> brook PULL, each side binding
// in turn, over tcp and ipc. Quirks handled here: zmq4's Dial is
// synchronous and gives up after 10 tries 250 ms apart, so the brook side
// binds first when zmq4 dials; zmq4 reports its bound address as a
// net.Addr; its Recv takes no context (closing the socket unblocks it);
// and it logs to stderr unless given a logger.
func TestZmq4PushPull(t *testing.T) {
	for _, scheme := range []string{"tcp", "ipc"} {
		bindEP := func(t *testing.T) string {
			if scheme == "ipc" {
				return ipcEndpoint(t)
			}
			return "tcp://127.0.0.1:0"
		}
		t.Run(scheme, func(t *testing.T) {
			t.Run("brook-push-binds", func(t *testing.T) {
				t.Parallel()
				ctx := deadline(t)
				push := newBrook(t, socket.Push)
				require.NoError(t, push.Bind(bindEP(t)))
				pull := newZmq4(t, zmq4.NewPull)
				require.NoError(t, pull.Dial(push.LastEndpoint()))
				brookToZmq4(ctx, t, push, pull)
			})
			t.Run("zmq4-pull-binds", func(t *testing.T) {
				t.Parallel()
				ctx := deadline(t)
				pull := newZmq4(t, zmq4.NewPull)
				require.NoError(t, pull.Listen(bindEP(t)))
				push := newBrook(t, socket.Push)
				require.NoError(t, push.Connect(zmq4Endpoint(t, pull, scheme)))
				brookToZmq4(ctx, t, push, pull)
			})
			t.Run("brook-pull-binds", func(t *testing.T) {
				t.Parallel()
				ctx := deadline(t)
				pull := newBrook(t, socket.Pull)
				require.NoError(t, pull.Bind(bindEP(t)))
				push := newZmq4(t, zmq4.NewPush)
				require.NoError(t, push.Dial(pull.LastEndpoint()))
				zmq4ToBrook(ctx, t, push, pull)
			})
			t.Run("zmq4-push-binds", func(t *testing.T) {
				t.Parallel()
				ctx := deadline(t)
				push := newZmq4(t, zmq4.NewPush)
				require.NoError(t, push.Listen(bindEP(t)))
				pull := newBrook(t, socket.Pull)
				events := watchEvents(t, pull)
				require.NoError(t, pull.Connect(zmq4Endpoint(t, push, scheme)))
				// zmq4's Send waits (up to its 5-minute default timeout)
				// until some peer is connected, then writes to every
				// connection it has rather than round-robin: wait for
				// brook's handshake so a failure shows here, not as a hang.
				events.waitType(ctx, t, socket.EventHandshakeSucceeded)
				zmq4ToBrook(ctx, t, push, pull)
			})
		})
	}
}

func brookToZmq4(ctx context.Context, t *testing.T, push *socket.Socket, pull zmq4.Socket) {
	go func() {
		for _, m := range sampleMessages() {
			if push.Send(ctx, socket.NewMsg(m...)) != nil {
				return
			}
		}
	}()
	for i, want := range sampleMessages() {
		got := zmq4Recv(ctx, t, pull)
		assertSameMessage(t, want, got, i)
	}
}

// zmq4Recv receives one message on s. zmq4's Recv takes no context and
// has no timeout, so a message that never comes would hang the suite:
// when ctx ends first, the socket is closed (which unblocks Recv) and the
// test fails.
func zmq4Recv(ctx context.Context, t *testing.T, s zmq4.Socket) [][]byte {
	t.Helper()
	type result struct {
		msg zmq4.Msg
		err error
	}
	done := make(chan result, 1)
	go func() {
		m, err := s.Recv()
		done <- result{m, err}
	}()
	select {
	case r := <-done:
		require.NoError(t, r.err, "zmq4 Recv")
		return r.msg.Frames
	case <-ctx.Done():
		s.Close()
		<-done
		t.Fatalf("zmq4 Recv: nothing arrived: %v", ctx.Err())
		return nil
	}
}

func zmq4ToBrook(ctx context.Context, t *testing.T, push zmq4.Socket, pull *socket.Socket) {
	for i, want := range sampleMessages() {
		err := push.Send(zmq4.NewMsgFrom(want...))
		require.NoError(t, err, "zmq4 Send, message %d", i)
		assertSameMessage(t, want, requireRecv(ctx, t, pull), i)
	}
}
