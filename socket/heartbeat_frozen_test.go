package socket_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/brookmq/brook/socket"
	"github.com/brookmq/brook/transport"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Heartbeat settings of the frozen-peer tests. Issue 16 used a 300 ms
// timeout (libzmq detected a stopped peer in about 400 ms); here it is
// longer because a live peer must answer within it, and on a loaded
// 2-core machine running -race binaries (load average 12 was seen) a
// process starting up or starved of CPU missed 300 ms. Detection latency
// with issue 16's settings is measured outside the tests.
const (
	frozenIvl     = 100 * time.Millisecond
	frozenTimeout = 1500 * time.Millisecond
	// frozenMargin is what detection may take beyond interval plus
	// timeout on a loaded machine (a PING is due at most one interval
	// after the peer stops, and the timeout runs from there). It only
	// bounds a failure: a peer that is never detected fails the test.
	frozenMargin = 3 * time.Second
	// frozenAfter messages are sent after the detection; all of them must
	// reach the live peer while the stopped one is still stopped.
	frozenAfter = 2000
)

// A PULL process stopped with SIGSTOP while a PUSH sends to it and to a
// live PULL at full rate is detected within the heartbeat timeout (plus
// a margin for a loaded machine), whether the PUSH accepted its
// connection or made it: the PUSH pings every interval whatever it
// sends, and a writer blocked in write() on the stopped peer's full
// buffers does not hold the detection up. Then every message sent goes
// to the live peer while the stopped one stays stopped. Nothing that was
// still queued for the stopped peer is lost: it goes to the live peer.
// Only what had been flushed to the kernel for the stopped peer may be
// lost (ZeroMQ's at-most-once; it reads the part its kernel holds once
// resumed), and no message arrives twice.
func TestHeartbeatDetectsFrozenPeer(t *testing.T) {
	for _, size := range []int{8, 16 << 10} {
		for _, mode := range []string{"connect", "bind"} {
			t.Run(fmt.Sprintf("peer %ss, %d-byte messages", mode, size), func(t *testing.T) {
				testFrozenPeer(t, mode, size)
			})
		}
	}
}

func testFrozenPeer(t *testing.T, mode string, size int) {
	ctx := testCtx(t)
	seqs := newSeqTracker()
	hb := socket.WithHeartbeat(frozenIvl, frozenTimeout, 0)
	push := newSocket(t, socket.Push, hb, socket.WithTransport(newFlushRecorder(seqs)))
	events := watchEvents(t, push, "push")
	require.NoError(t, push.Bind("tcp://127.0.0.1:0"))
	isChild := func(e socket.Event) bool {
		v, _ := e.Peer.Property(frozenRole)
		return e.Type == socket.EventHandshakeSucceeded && string(v) == "child"
	}

	// The live peer heartbeats too: its PINGs travel in the idle
	// direction, so it stays alive however much data it still has to
	// read.
	live := newSocket(t, socket.Pull, hb)
	watchEvents(t, live, "live")
	require.NoError(t, live.Connect(push.LastEndpoint()))

	child := startFrozenChild(t, mode, push.LastEndpoint())
	if mode == "bind" {
		require.NoError(t, push.Connect(child.ep))
	}
	_, err := events.await(ctx, 0, isChild)
	require.NoError(t, err, "the child's handshake")
	select {
	case <-child.up:
	case <-ctx.Done():
		t.Fatal("the child never saw its handshake")
	}

	childDone := make(chan struct{})
	go func() {
		defer close(childDone)
		for n := range child.lines {
			seqs.record(atChild, n)
		}
	}()
	rctx, rcancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		rcancel()
		wg.Wait()
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			m, err := live.Recv(rctx)
			if err != nil {
				return
			}
			seqs.record(atLive, binary.BigEndian.Uint64(m.Frames[0]))
		}
	}()

	// The sender: full rate until limit.
	var sent, limit atomic.Uint64
	limit.Store(1<<63 - 1)
	sendErr := make(chan error, 1)
	go func() {
		for seq := uint64(0); seq < limit.Load(); seq++ {
			b := make([]byte, size)
			binary.BigEndian.PutUint64(b, seq)
			if err := push.Send(ctx, socket.NewMsg(b)); err != nil {
				sendErr <- err
				return
			}
			sent.Store(seq + 1)
		}
		sendErr <- nil
	}()
	require.NoError(t, seqs.waitChild(ctx), "the child receives")

	// The child's pipes so far (an accepted pipe is new on each
	// connection); stopped, it makes no new connection.
	mark := events.len()
	childPipes := map[uint64]bool{}
	conns := events.count(func(e socket.Event) bool {
		if isChild(e) {
			childPipes[e.PeerID] = true
			return true
		}
		return false
	})
	require.NoError(t, child.cmd.Process.Signal(syscall.SIGSTOP))

	detect, cancel := context.WithTimeout(ctx, frozenIvl+frozenTimeout+frozenMargin)
	defer cancel()
	e, err := events.await(detect, mark, func(e socket.Event) bool {
		return e.Type == socket.EventDisconnected && childPipes[e.PeerID]
	})
	require.NoError(t, err, "the stopped peer's disconnection")
	assert.ErrorIs(t, e.Err, transport.ErrPeerTimeout)
	from := sent.Load()
	limit.Store(from + frozenAfter)
	require.NoError(t, <-sendErr)
	total := sent.Load()
	require.NoError(t, seqs.waitLive(ctx, from, total), "sent after the detection, while the stopped peer is stopped")

	require.NoError(t, child.cmd.Process.Signal(syscall.SIGCONT))
	require.NoError(t, seqs.waitDelivered(ctx, total), "what was not flushed to the stopped peer")
	// Once every connection it had is gone, the child has read all it
	// will ever get of them; then it takes what it queued and exits.
	for range conns {
		select {
		case <-child.gone:
		case <-ctx.Done():
			t.Fatal("the child's connections never ended")
		}
	}
	require.NoError(t, child.stdin.Close())
	select {
	case <-childDone:
	case <-ctx.Done():
		t.Fatal("the child never exited")
	}
	dups, lost, flushed := seqs.totals(total)
	assert.Empty(t, dups, "messages received twice")
	assert.Zero(t, push.Stats().Dropped[socket.DropPeerGone], "messages dropped with the stopped peer")
	t.Logf("%d messages, %d sent before the detection; %d flushed to the stopped peer, of which %d lost in the kernel's buffers", total, from, flushed, lost)
}
