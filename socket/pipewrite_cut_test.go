package socket_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brookmq/brook/socket"
	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/zmtp"
	"github.com/stretchr/testify/require"
)

// errCut is the error of a write the cutting stream cut short.
var errCut = errors.New("test: write cut")

// cutStream lets through exactly limit bytes of what is written once it
// is armed (after the handshake), then fails the write that crosses the
// limit, having passed the bytes before it on. Reads pass through.
type cutStream struct {
	net.Conn
	mu     sync.Mutex
	armed  bool
	left   int
	cut    chan struct{}
	cutted bool
}

func (c *cutStream) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cutted {
		return 0, errCut
	}
	if !c.armed || len(p) <= c.left {
		n, err := c.Conn.Write(p)
		if c.armed {
			c.left -= n
		}
		return n, err
	}
	n, err := c.Conn.Write(p[:c.left])
	c.left -= n
	c.cutted = true
	close(c.cut)
	if err == nil {
		err = errCut
	}
	return n, err
}

// cutConn arms its stream's limit once the handshake is over, so that the
// limit counts the bytes of the messages only. The engine's other
// methods (Written, TryFlush...) are promoted.
type cutConn struct {
	*zmtp.Conn
	s *cutStream
}

func (c *cutConn) Handshake(ctx context.Context, cfg *transport.Config) (transport.PeerInfo, error) {
	info, err := c.Conn.Handshake(ctx, cfg)
	c.s.mu.Lock()
	c.s.armed = true
	c.s.mu.Unlock()
	return info, err
}

// cutTransport dials tcp ("cut://host:port") through one cutting stream
// of limit bytes; it refuses every later dial, so that what the cut
// connection did not send goes to the socket's other peer.
type cutTransport struct {
	limit int
	cut   chan struct{}
	mu    sync.Mutex
	used  bool
}

func (t *cutTransport) Schemes() []string { return []string{"cut"} }

func (t *cutTransport) Dial(ctx context.Context, ep transport.Endpoint) (transport.Conn, error) {
	t.mu.Lock()
	used := t.used
	t.used = true
	t.mu.Unlock()
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", ep.Address)
	if err != nil {
		return nil, err
	}
	s := &cutStream{Conn: nc, left: t.limit, cut: t.cut}
	if used { // the reconnection is not cut
		s = &cutStream{Conn: nc, left: math.MaxInt, cut: make(chan struct{})}
	}
	zc := zmtp.NewConn(s, nc.LocalAddr().String(), nc.RemoteAddr().String(), zmtp.Options{})
	return &cutConn{Conn: zc, s: s}, nil
}

func (t *cutTransport) Listen(transport.Endpoint) (transport.Listener, error) {
	return nil, transport.ErrNotSupported
}

// wireSize is a single-frame message's size on the wire: a ZMTP frame,
// or with CURVE the frame of its MESSAGE box (name, nonce, tag, flags).
func wireSize(body int, curve bool) int {
	if curve {
		body += 8 + 8 + 16 + 1
	}
	if body <= 255 {
		return 2 + body
	}
	return 9 + body
}

// cutCase sends msgs (their sizes) through a connection that takes limit
// bytes of them and fails, then through a second peer: the first peer
// must receive exactly the messages wholly within the limit, the second
// exactly the others, in order, each once.
func cutCase(t *testing.T, sizes []int, limit int, curveOn bool) {
	t.Helper()
	ctx := testCtx(t)
	var srvOpt, cliOpt []socket.Option
	if curveOn {
		srv, cli := keyPair(t), keyPair(t)
		srvOpt = []socket.Option{socket.WithCurveServer(srv, allowKeys(cli.Public))}
		cliOpt = []socket.Option{socket.WithCurveClient(srv.Public, cli)}
	}
	cut := &cutTransport{limit: limit, cut: make(chan struct{})}
	a := newSocket(t, socket.Pull, srvOpt...)
	require.NoError(t, a.Bind("tcp://127.0.0.1:0"))
	push := newSocket(t, socket.Push, append(cliOpt, socket.WithTransport(cut), socket.WithReconnectInterval(time.Millisecond))...)
	require.NoError(t, push.Connect("cut://"+strings.TrimPrefix(a.LastEndpoint(), "tcp://")))

	// Which messages fit wholly in the limit.
	whole, used := 0, 0
	for _, n := range sizes {
		if used+wireSize(n+4, curveOn) > limit {
			break
		}
		used += wireSize(n+4, curveOn)
		whole++
	}
	require.Less(t, whole, len(sizes), "the limit must cut the messages")

	for i, n := range sizes {
		body := make([]byte, n+4)
		binary.BigEndian.PutUint32(body, uint32(i))
		require.NoError(t, push.Send(ctx, socket.NewMsg(body)))
	}
	select {
	case <-cut.cut:
	case <-ctx.Done():
		t.Fatal("the connection was never cut")
	}
	end := []byte("end")
	require.NoError(t, push.Send(ctx, socket.NewMsg(end)))

	seq := func(m socket.Msg) int {
		require.Len(t, m.Frames, 1)
		require.GreaterOrEqual(t, len(m.Frames[0]), 4)
		return int(binary.BigEndian.Uint32(m.Frames[0]))
	}
	// The PULL fair-queues the dead connection's last messages with the
	// reconnection's, so the two runs interleave: each keeps its own
	// order. The reconnection carries the resent messages, then "end";
	// a duplicate would come on it before "end".
	seen := make([]bool, len(sizes))
	nextOld, nextNew, gotEnd := 0, whole, false
	for nextOld < whole || !gotEnd {
		m, err := a.Recv(ctx)
		require.NoError(t, err)
		require.Len(t, m.Frames, 1)
		if string(m.Frames[0]) == string(end) {
			require.False(t, gotEnd, "end twice")
			require.Equal(t, len(sizes), nextNew, "end came before the messages after the cut: %d went wholly before the cut, so the resend must start at it", whole)
			gotEnd = true
			continue
		}
		i := seq(m)
		require.Less(t, i, len(sizes))
		require.False(t, seen[i], "message %d received twice (%d went wholly before the cut)", i, whole)
		seen[i] = true
		require.Len(t, m.Frames[0], sizes[i]+4)
		if i < whole {
			require.Equal(t, nextOld, i, "first connection, in order")
			nextOld++
		} else {
			require.Equal(t, nextNew, i, "after the reconnection: %d went wholly before the cut, so the resend must start at it", whole)
			nextNew++
		}
	}
	// Both connections have delivered all they carry: a marker sent now
	// comes next, unless something more was delivered.
	require.NoError(t, push.Send(ctx, socket.NewMsg([]byte("end2"))))
	m, err := a.Recv(ctx)
	require.NoError(t, err)
	require.Equal(t, []byte("end2"), m.Frames[0], "the peer got more than the messages cut or not written")
}

// A connection that dies in the middle of a write has sent a prefix of
// its bytes: the messages wholly in that prefix reached the peer and are
// not sent again to the next one; the message cut in the middle and
// those after it are, exactly once. Cuts inside a header, inside a body
// and at a message's end, over NULL and CURVE, with small messages, one
// flushed on its own (larger than the socket's flush size) and one
// written from the caller's memory (larger than half the buffer).
func TestPartialWriteSendsNoDuplicates(t *testing.T) {
	sizes := make([]int, 40)
	for i := range sizes {
		sizes[i] = 100
	}
	sizes[10] = 40 << 10 // flushed alone
	sizes[20] = 70 << 10 // vectored
	for _, curveOn := range []bool{false, true} {
		w := wireSize(104, curveOn)
		for _, limit := range []int{0, 1, w - 1, w, w + 1, 5*w + 3, 10*w + 7, 10*w + wireSize(40<<10+4, curveOn),
			19*w + wireSize(40<<10+4, curveOn) + 1000} {
			t.Run(fmt.Sprintf("curve=%v/limit=%d", curveOn, limit), func(t *testing.T) {
				cutCase(t, sizes, limit, curveOn)
			})
		}
	}
}

// Random messages cut at random points: the same property.
func TestPartialWriteRandomCuts(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 42))
	rounds := 12
	if testing.Short() {
		rounds = 4
	}
	for r := range rounds {
		curveOn := r%2 == 1
		sizes := make([]int, 5+rng.IntN(60))
		total := 0
		for i := range sizes {
			switch rng.IntN(10) {
			case 0:
				sizes[i] = 20<<10 + rng.IntN(80<<10)
			case 1, 2:
				sizes[i] = 200 + rng.IntN(400)
			default:
				sizes[i] = rng.IntN(120)
			}
			total += wireSize(sizes[i]+4, curveOn)
		}
		limit := rng.IntN(total - wireSize(sizes[len(sizes)-1]+4, curveOn) + 1)
		t.Run(fmt.Sprintf("round%d/curve=%v/limit=%d", r, curveOn, limit), func(t *testing.T) {
			cutCase(t, sizes, limit, curveOn)
		})
	}
}

// FuzzPartialWrite checks the property at cut points the fuzzer picks.
func FuzzPartialWrite(f *testing.F) {
	f.Add(uint16(0), false)
	f.Add(uint16(305), false)
	f.Add(uint16(1400), true)
	f.Fuzz(func(t *testing.T, cut uint16, curveOn bool) {
		sizes := []int{100, 3, 250, 300, 40 << 10, 7, 70 << 10, 100, 100}
		total := 0
		for _, n := range sizes[:len(sizes)-1] {
			total += wireSize(n+4, curveOn)
		}
		cutCase(t, sizes, int(cut)%(total+1), curveOn)
	})
}
