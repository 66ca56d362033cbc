package socket_test

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brookmq/brook/socket"
	"github.com/stretchr/testify/require"
)

var inprocSeq atomic.Int64

// inprocEndpoint returns an inproc name no other test uses.
func inprocEndpoint(t *testing.T) string {
	return fmt.Sprintf("inproc://%s-%d", t.Name(), inprocSeq.Add(1))
}

// testCtx bounds a test's blocking calls so a bug fails instead of hanging.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func newSocket(t *testing.T, typ socket.Type, opts ...socket.Option) *socket.Socket {
	t.Helper()
	s, err := socket.New(typ, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// waitEvent reads events until one of type want arrives.
func waitEvent(t *testing.T, ctx context.Context, ev <-chan socket.Event, want socket.EventType) socket.Event {
	t.Helper()
	for {
		select {
		case e, ok := <-ev:
			require.True(t, ok, "monitor closed before %s", want)
			if e.Type == want {
				return e
			}
		case <-ctx.Done():
			t.Fatalf("no %s event: %v", want, ctx.Err())
		}
	}
}

// freePort returns a TCP port that was free a moment ago (for tests that
// must connect before they bind).
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// freeUDPPort returns a UDP port that was free a moment ago (quic).
func freeUDPPort(t *testing.T) string {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	defer c.Close()
	return strconv.Itoa(c.LocalAddr().(*net.UDPAddr).Port)
}

func msgOf(s string) socket.Msg { return socket.NewMsg([]byte(s)) }

// endpointFor returns a bindable endpoint of scheme: tcp on a free port,
// a fresh ipc path, a fresh inproc name.
func endpointFor(t *testing.T, scheme string) string {
	switch scheme {
	case "tcp":
		return "tcp://127.0.0.1:0"
	case "ipc":
		return "ipc://" + filepath.Join(t.TempDir(), "s")
	case "inproc":
		return inprocEndpoint(t)
	}
	t.Fatalf("no endpoint for %q", scheme)
	return ""
}
