package socket_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/brookmq/brook/socket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// endpoints lists, per transport, a function making a bindable endpoint.
func endpoints(t *testing.T) map[string]func() string {
	return map[string]func() string{
		"inproc": func() string { return inprocEndpoint(t) },
		"tcp":    func() string { return "tcp://127.0.0.1:" + freePort(t) },
		"ipc":    func() string { return "ipc://" + filepath.Join(t.TempDir(), "s.sock") },
		"zstd":   func() string { return "zstd+tcp://127.0.0.1:" + freePort(t) },
	}
}

func TestPushPullOrdered(t *testing.T) {
	for name, mk := range endpoints(t) {
		for _, bindFirst := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/bindFirst=%v", name, bindFirst), func(t *testing.T) {
				ctx := testCtx(t)
				ep := mk()
				push := newSocket(t, socket.Push)
				pull := newSocket(t, socket.Pull)
				if bindFirst {
					require.NoError(t, pull.Bind(ep))
					require.NoError(t, push.Connect(ep))
				} else {
					require.NoError(t, push.Connect(ep))
					require.NoError(t, pull.Bind(ep))
				}
				const n = 5000
				go func() {
					for i := 0; i < n; i++ {
						if err := push.Send(ctx, socket.NewMsg([]byte(strconv.Itoa(i)), []byte("part2"))); err != nil {
							return
						}
					}
				}()
				for i := 0; i < n; i++ {
					m, err := pull.Recv(ctx)
					require.NoError(t, err)
					require.Len(t, m.Frames, 2)
					require.Equal(t, strconv.Itoa(i), string(m.Frames[0]))
					require.Equal(t, "part2", string(m.Frames[1]))
				}
				assert.EqualValues(t, n, push.Stats().Sent)
				assert.EqualValues(t, n, pull.Stats().Received)
			})
		}
	}
}

func TestPushRoundRobinFairShare(t *testing.T) {
	ctx := testCtx(t)
	push := newSocket(t, socket.Push)
	ev, stop := push.Monitor()
	defer stop()
	var pulls []*socket.Socket
	for i := 0; i < 3; i++ {
		pull := newSocket(t, socket.Pull)
		ep := inprocEndpoint(t)
		require.NoError(t, pull.Bind(ep))
		require.NoError(t, push.Connect(ep))
		waitEvent(t, ctx, ev, socket.EventHandshakeSucceeded)
		pulls = append(pulls, pull)
	}
	const n = 300
	for i := 0; i < n; i++ {
		require.NoError(t, push.Send(ctx, msgOf(strconv.Itoa(i))))
	}
	// Round-robin: each PULL gets exactly a third, each in order.
	for _, pull := range pulls {
		prev := -1
		for j := 0; j < n/3; j++ {
			m, err := pull.Recv(ctx)
			require.NoError(t, err)
			v, _ := strconv.Atoi(string(m.Frames[0]))
			require.Greater(t, v, prev)
			prev = v
		}
		short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		_, err := pull.Recv(short)
		cancel()
		require.ErrorIs(t, err, context.DeadlineExceeded, "a PULL got more than its share")
	}
}

func TestPushBlocksWithoutPeer(t *testing.T) {
	push := newSocket(t, socket.Push)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	err := push.Send(ctx, msgOf("x"))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Zero(t, push.Stats().Sent)
}

func TestPushImmediateBlocksUntilConnected(t *testing.T) {
	push := newSocket(t, socket.Push, socket.WithImmediate(true))
	require.NoError(t, push.Connect(inprocEndpoint(t))) // nobody binds it
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, push.Send(ctx, msgOf("x")), context.DeadlineExceeded)
}

func TestPushQueuesForConnectingPeer(t *testing.T) {
	ctx := testCtx(t)
	ep := inprocEndpoint(t)
	push := newSocket(t, socket.Push, socket.WithSendHWM(10))
	require.NoError(t, push.Connect(ep))
	for i := 0; i < 10; i++ {
		require.NoError(t, push.Send(ctx, msgOf(strconv.Itoa(i))))
	}
	short, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	require.ErrorIs(t, push.Send(short, msgOf("over")), context.DeadlineExceeded, "HWM must block")
	cancel()
	pull := newSocket(t, socket.Pull)
	require.NoError(t, pull.Bind(ep))
	for i := 0; i < 10; i++ {
		m, err := pull.Recv(ctx)
		require.NoError(t, err)
		require.Equal(t, strconv.Itoa(i), string(m.Frames[0]))
	}
}

func TestHWMBackpressure(t *testing.T) {
	ctx := testCtx(t)
	ep := inprocEndpoint(t)
	pull := newSocket(t, socket.Pull, socket.WithRecvHWM(5))
	require.NoError(t, pull.Bind(ep))
	push := newSocket(t, socket.Push, socket.WithSendHWM(5))
	require.NoError(t, push.Connect(ep))
	// Fill everything between the two sockets; Send must end up blocking
	// rather than dropping.
	sent := 0
	for {
		short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		err := push.Send(short, msgOf(strconv.Itoa(sent)))
		cancel()
		if err != nil {
			require.ErrorIs(t, err, context.DeadlineExceeded)
			break
		}
		sent++
		require.Less(t, sent, 10000, "Send never blocked")
	}
	for i := 0; i < sent; i++ {
		m, err := pull.Recv(ctx)
		require.NoError(t, err)
		require.Equal(t, strconv.Itoa(i), string(m.Frames[0]))
	}
	assert.Empty(t, push.Stats().Dropped)
}

func TestCloseUnblocks(t *testing.T) {
	pull := newSocket(t, socket.Pull)
	push := newSocket(t, socket.Push)
	errc := make(chan error, 2)
	go func() { _, err := pull.Recv(context.Background()); errc <- err }()
	go func() { errc <- push.Send(context.Background(), msgOf("x")) }()
	require.NoError(t, pull.Close())
	require.NoError(t, push.Close())
	for i := 0; i < 2; i++ {
		err := <-errc
		assert.ErrorIs(t, err, socket.ErrClosed)
		assert.ErrorIs(t, err, net.ErrClosed)
	}
	assert.ErrorIs(t, push.Send(context.Background(), msgOf("x")), socket.ErrClosed)
	assert.ErrorIs(t, pull.Bind(inprocEndpoint(t)), socket.ErrClosed)
	assert.NoError(t, pull.Close(), "Close is idempotent")
}

func TestLingerDeliversQueued(t *testing.T) {
	ctx := testCtx(t)
	ep := inprocEndpoint(t)
	pull := newSocket(t, socket.Pull)
	require.NoError(t, pull.Bind(ep))
	push := newSocket(t, socket.Push, socket.WithLinger(5*time.Second))
	require.NoError(t, push.Connect(ep))
	const n = 2000
	for i := 0; i < n; i++ {
		require.NoError(t, push.Send(ctx, msgOf(strconv.Itoa(i))))
	}
	// Close blocks while it delivers (more than the receiver's HWM is
	// queued), so the receiver reads concurrently.
	got := make(chan error, 1)
	go func() {
		for i := 0; i < n; i++ {
			m, err := pull.Recv(ctx)
			if err != nil {
				got <- fmt.Errorf("message %d: %w", i, err)
				return
			}
			if string(m.Frames[0]) != strconv.Itoa(i) {
				got <- fmt.Errorf("message %d: got %q", i, m.Frames[0])
				return
			}
		}
		got <- nil
	}()
	require.NoError(t, push.Close())
	require.NoError(t, <-got)
	assert.Empty(t, push.Stats().Dropped)
}

func TestLingerZeroDropsCounted(t *testing.T) {
	ctx := testCtx(t)
	push := newSocket(t, socket.Push, socket.WithLinger(0))
	require.NoError(t, push.Connect(inprocEndpoint(t))) // never bound
	for i := 0; i < 7; i++ {
		require.NoError(t, push.Send(ctx, msgOf("x")))
	}
	ev, stop := push.Monitor()
	defer stop()
	require.NoError(t, push.Close())
	var dropped int
	for e := range ev {
		if e.Type == socket.EventDropped {
			dropped += e.Count
			assert.Equal(t, socket.DropPeerGone, e.Reason)
		}
	}
	assert.Equal(t, 7, dropped)
	assert.EqualValues(t, 7, push.Stats().Dropped[socket.DropPeerGone])
}

func TestConcurrentSendRecv(t *testing.T) {
	ctx := testCtx(t)
	ep := inprocEndpoint(t)
	pull := newSocket(t, socket.Pull)
	require.NoError(t, pull.Bind(ep))
	push := newSocket(t, socket.Push)
	require.NoError(t, push.Connect(ep))
	const senders, each = 4, 500
	var wg sync.WaitGroup
	for g := 0; g < senders; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				assert.NoError(t, push.Send(ctx, msgOf(fmt.Sprintf("%d/%d", g, i))))
			}
		}(g)
	}
	seen := make(map[string]bool)
	var mu sync.Mutex
	var rg sync.WaitGroup
	for r := 0; r < 3; r++ {
		rg.Add(1)
		go func() {
			defer rg.Done()
			for {
				mu.Lock()
				done := len(seen) == senders*each
				mu.Unlock()
				if done {
					return
				}
				short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
				m, err := pull.Recv(short)
				cancel()
				if errors.Is(err, context.DeadlineExceeded) {
					continue
				}
				if !assert.NoError(t, err) {
					return
				}
				mu.Lock()
				assert.False(t, seen[string(m.Frames[0])], "duplicate %s", m.Frames[0])
				seen[string(m.Frames[0])] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	rg.Wait()
	assert.Len(t, seen, senders*each)
}

func TestPairOnlyOnePeer(t *testing.T) {
	ctx := testCtx(t)
	ep := inprocEndpoint(t)
	a := newSocket(t, socket.Pair)
	ev, stop := a.Monitor()
	defer stop()
	require.NoError(t, a.Bind(ep))
	b := newSocket(t, socket.Pair)
	require.NoError(t, b.Connect(ep))
	waitEvent(t, ctx, ev, socket.EventHandshakeSucceeded)
	c := newSocket(t, socket.Pair)
	require.NoError(t, c.Connect(ep))
	waitEvent(t, ctx, ev, socket.EventRejected)

	require.NoError(t, b.Send(ctx, msgOf("ping")))
	m, err := a.Recv(ctx)
	require.NoError(t, err)
	assert.Equal(t, "ping", string(m.Frames[0]))
	require.NoError(t, a.Send(ctx, msgOf("pong")))
	m, err = b.Recv(ctx)
	require.NoError(t, err)
	assert.Equal(t, "pong", string(m.Frames[0]))
}

func TestSendEmptyMsg(t *testing.T) {
	push := newSocket(t, socket.Push)
	require.ErrorIs(t, push.Send(context.Background(), socket.Msg{}), socket.ErrEmptyMsg)
}

func TestWrongDirection(t *testing.T) {
	push := newSocket(t, socket.Push)
	_, err := push.Recv(context.Background())
	require.ErrorIs(t, err, socket.ErrNotSupported)
	pull := newSocket(t, socket.Pull)
	require.ErrorIs(t, pull.Send(context.Background(), msgOf("x")), socket.ErrNotSupported)
	require.ErrorIs(t, pull.Subscribe([]byte("a")), socket.ErrNotSupported)
}

func TestIncompatiblePeerRejected(t *testing.T) {
	ctx := testCtx(t)
	ep := inprocEndpoint(t)
	pull := newSocket(t, socket.Pull)
	ev, stop := pull.Monitor()
	defer stop()
	require.NoError(t, pull.Bind(ep))
	other := newSocket(t, socket.Pull)
	require.NoError(t, other.Connect(ep))
	e := waitEvent(t, ctx, ev, socket.EventHandshakeFailed)
	assert.Error(t, e.Err)
}
