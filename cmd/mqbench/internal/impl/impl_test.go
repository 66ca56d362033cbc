package impl_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"net"
	"testing"
	"time"

	"github.com/brookmq/brook/cmd/mqbench/internal/config"
	"github.com/brookmq/brook/cmd/mqbench/internal/impl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestNewAndAvailable(t *testing.T) {
	_, err := impl.New("nng")
	require.ErrorIs(t, err, impl.ErrUnavailable)
	avail := impl.Available()
	assert.Equal(t, "brook", avail[0])
	assert.Contains(t, avail, "zmq4")
	assert.Contains(t, avail, "raw")
	for _, name := range avail {
		im, err := impl.New(name)
		require.NoError(t, err)
		assert.Equal(t, name, im.Name())
		assert.NotEmpty(t, im.Version())
	}
	assert.Equal(t, "ROUTER", impl.Router.String())
	assert.Equal(t, "Kind(42)", impl.Kind(42).String())
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// pair makes two connected sockets of im on a loopback endpoint.
func pair(t *testing.T, im impl.Impl, ep string, a, b impl.Kind) (impl.Socket, impl.Socket) {
	t.Helper()
	c := ctx(t)
	s1, err := im.NewSocket(c, a, impl.Options{HWM: 100})
	require.NoError(t, err)
	s2, err := im.NewSocket(c, b, impl.Options{HWM: 100})
	require.NoError(t, err)
	got, err := s1.Bind(ep)
	require.NoError(t, err)
	require.NoError(t, s2.Connect(got))
	return s1, s2
}

func TestSocketsCarryMessages(t *testing.T) {
	for _, name := range []string{"brook", "zmq4", "raw"} {
		t.Run(name, func(t *testing.T) {
			im, err := impl.New(name)
			require.NoError(t, err)
			pull, push := pair(t, im, "tcp://127.0.0.1:0", impl.Pull, impl.Push)
			defer pull.Close()
			defer push.Close()
			for i := range 3 {
				require.NoError(t, push.Send(ctx(t), [][]byte{bytes.Repeat([]byte{byte(i)}, 100)}))
			}
			if f, ok := push.(impl.Flusher); ok {
				require.NoError(t, f.Flush())
			}
			for i := range 3 {
				m, err := pull.Recv(ctx(t))
				require.NoError(t, err)
				require.Len(t, m, 1)
				assert.Equal(t, bytes.Repeat([]byte{byte(i)}, 100), m[0])
			}
		})
	}
}

// send sends one frame and flushes (raw buffers until told).
func send(t *testing.T, s impl.Socket, frame string) {
	t.Helper()
	require.NoError(t, s.Send(ctx(t), [][]byte{[]byte(frame)}))
	require.NoError(t, s.(impl.Flusher).Flush())
}

func TestRawRecvHonoursContext(t *testing.T) {
	im, _ := impl.New(config.ImplRaw)
	a, b := pair(t, im, "tcp://127.0.0.1:0", impl.Pair, impl.Pair)
	defer a.Close()
	defer b.Close()
	send(t, b, "x")
	_, err := a.Recv(ctx(t))
	require.NoError(t, err)
	c, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = a.Recv(c)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	// A later context works again: the deadline of the ended one is gone.
	send(t, b, "y")
	m, err := a.Recv(ctx(t))
	require.NoError(t, err)
	assert.Equal(t, "y", string(m[0]))
	require.Error(t, b.Send(ctx(t), [][]byte{[]byte("a"), []byte("b")}), "raw carries single frames")
}

func TestRawRejectsHugeFrame(t *testing.T) {
	im, _ := impl.New(config.ImplRaw)
	s, err := im.NewSocket(ctx(t), impl.Pull, impl.Options{})
	require.NoError(t, err)
	defer s.Close()
	ep, err := s.Bind("tcp://127.0.0.1:0")
	require.NoError(t, err)
	c, err := net.Dial("tcp", ep[len("tcp://"):])
	require.NoError(t, err)
	defer c.Close()
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], config.MaxSize+1)
	_, err = c.Write(hdr[:])
	require.NoError(t, err)
	_, err = s.Recv(ctx(t))
	require.ErrorContains(t, err, "exceeds")
}

func TestRawEndpoints(t *testing.T) {
	im, _ := impl.New(config.ImplRaw)
	s, err := im.NewSocket(ctx(t), impl.Pull, impl.Options{})
	require.NoError(t, err)
	defer s.Close()
	_, err = s.Bind("inproc://x")
	require.Error(t, err)
	require.Error(t, s.Connect("udp://x"))
	ipc := "ipc://" + t.TempDir() + "/r.sock"
	a, b := pair(t, im, ipc, impl.Pull, impl.Push)
	defer a.Close()
	defer b.Close()
	send(t, b, "over unix")
	m, err := a.Recv(ctx(t))
	require.NoError(t, err)
	assert.Equal(t, "over unix", string(m[0]))
}

func TestChecks(t *testing.T) {
	parse := func(args ...string) *config.Config {
		c, err := config.Parse(args)
		require.NoError(t, err)
		return c
	}
	raw, _ := impl.New("raw")
	zmq4, _ := impl.New("zmq4")
	brook, _ := impl.New("brook")
	require.NoError(t, raw.Check(parse("lat", "--pattern", "reqrep", "--transport", "ipc")))
	require.NoError(t, raw.Check(parse("thr", "--pattern", "pubsub")))
	require.ErrorIs(t, raw.Check(parse("thr", "--pattern", "pubsub", "--subscribers", "2")), impl.ErrUnsupported)
	require.ErrorIs(t, raw.Check(parse("thr", "--pattern", "dealerrouter")), impl.ErrUnsupported)
	require.ErrorIs(t, zmq4.Check(parse("thr", "--transport", "quic")), impl.ErrUnsupported)
	require.NoError(t, zmq4.Check(parse("thr", "--transport", "inproc", "--size", "255")))
	require.ErrorIs(t, zmq4.Check(parse("thr", "--transport", "inproc", "--size", "64,256")), impl.ErrUnsupported)
	require.NoError(t, brook.Check(parse("thr", "--transport", "zstd+tcp")))
}
