package interop

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/socket"
)

// readSeqs reads a libzmq peer's record file: one decimal sequence number
// per line, up to an "end" line.
func readSeqs(t *testing.T, path string) []int {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var seqs []int
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if line == "" {
			continue
		}
		if line == "end" {
			break
		}
		n, err := strconv.Atoi(line)
		require.NoError(t, err, "record %s holds %q", path, line)
		seqs = append(seqs, n)
	}
	return seqs
}

// requireRun checks that seqs is exactly from, from+1, ..., to-1.
func requireRun(t *testing.T, seqs []int, from, to int, who string) {
	t.Helper()
	for i, s := range seqs {
		if s != from+i {
			t.Fatalf("%s: message %d is #%d, want #%d (a gap, duplicate or reordering)", who, i, s, from+i)
		}
	}
	if len(seqs) != to-from {
		t.Fatalf("%s received %d messages, want the run [%d, %d)", who, len(seqs), from, to)
	}
}

// TestReconnectAfterPeerKilled: brook PUSH streams numbered messages to a
// libzmq PULL that binds; the PULL process is killed with SIGKILL in
// mid-stream and a new one binds the same endpoint. The stream must go
// on to the new peer, and no message Send accepted may vanish unseen.
//
// The stream runs until brook has seen the kill, then goes on with
// afterKill more messages and an end marker, so the new peer always has
// something to receive (otherwise the whole stream may fit in the dead
// connection's buffers, which proves nothing).
//
// What may be lost, in ZeroMQ's at-most-once model, is only what was in
// flight to the killed process: written to its connection but not yet
// received by it. The test measures exactly that. The old peer recorded
// a run [0, r) (its record file is written message by message, so it
// survives the kill). The new peer must receive a run [k, n) with r <= k
// (no duplicate, no reordering) ending at the last message, then the end
// marker. Nothing may be dropped (PUSH blocks instead), and brook's pipe
// must have written every one of the n+1 messages to a connection
// (PeerStats.Sent): then the gap [r, k) is exactly what the dead
// connection had accepted and the dead process never read, and no
// message left brook's queue without being written somewhere.
func TestReconnectAfterPeerKilled(t *testing.T) {
	const (
		killAt    = 3000
		afterKill = 1000
	)
	for _, tr := range streamTransports() {
		t.Run(tr.name, func(t *testing.T) {
			t.Parallel()
			ctx := deadline(t)
			dir := t.TempDir()
			end := []byte("end")

			old := startLibzmq(t, "PULL")
			ep := old.bind(tr.libzmqBind(t))
			push := newBrook(t, socket.Push, socket.WithReconnectInterval(20*time.Millisecond))
			events := watchEvents(t, push)
			require.NoError(t, push.Connect(ep))

			oldLog := filepath.Join(dir, "old")
			old.record(oldLog, end, killAt, 10*time.Second)
			var stop atomic.Bool
			type result struct {
				n   int
				err error
			}
			streamed := make(chan result, 1)
			go func() {
				n := 0
				for ; !stop.Load(); n++ {
					if err := push.Send(ctx, socket.NewMsg([]byte(strconv.Itoa(n)))); err != nil {
						streamed <- result{n, err}
						return
					}
				}
				streamed <- result{n, nil}
			}()

			old.awaitMark(testTimeout)
			old.kill()
			drop := events.waitType(ctx, t, socket.EventDisconnected)
			t.Logf("brook saw the kill: %s", drop)
			stop.Store(true)

			fresh := startLibzmq(t, "PULL")
			require.Equal(t, ep, fresh.bind(ep), "the new peer binds the same endpoint")
			newLog := filepath.Join(dir, "new")
			fresh.record(newLog, end, -1, 10*time.Second)
			res := <-streamed
			require.NoError(t, res.err, "every Send returns nil: PUSH blocks rather than drop")
			total := res.n + afterKill
			for i := res.n; i < total; i++ {
				requireSend(ctx, t, push, []byte(strconv.Itoa(i)))
			}
			requireSend(ctx, t, push, end)
			fresh.awaitRecorded(testTimeout)

			oldSeqs, newSeqs := readSeqs(t, oldLog), readSeqs(t, newLog)
			r := len(oldSeqs)
			requireRun(t, oldSeqs, 0, r, "killed peer")
			require.GreaterOrEqual(t, r, killAt)
			require.NotEmpty(t, newSeqs, "new peer")
			k := newSeqs[0]
			requireRun(t, newSeqs, k, total, "new peer")
			assert.GreaterOrEqual(t, k, r, "the new peer got messages the killed one had already received")

			st := push.Stats()
			assert.EqualValues(t, total+1, st.Sent, "Stats.Sent counts every accepted Send")
			assert.Empty(t, st.Dropped, "PUSH blocks at its HWM, it never drops")
			require.Len(t, st.Peers, 1, "one connecting pipe across both connections")
			assert.EqualValues(t, 2, st.Peers[0].Connections)
			// The writer counts a batch as written once its flush returned,
			// which may be a moment after the peer read it: there is no
			// signal for that moment, so poll. A message that left the
			// queue without being written keeps the count short for good.
			var written atomic.Uint64
			if !assert.Eventually(t, func() bool {
				written.Store(push.Stats().Peers[0].Sent)
				return written.Load() == uint64(total+1)
			}, 5*time.Second, 5*time.Millisecond) {
				t.Errorf("messages written to a connection (PeerStats.Sent): %d, want %d: %d left the queue unwritten and uncounted",
					written.Load(), total+1, total+1-int(written.Load()))
			}
			t.Logf("killed peer received %d, %d were in flight to it when it died, new peer received %d (from #%d)",
				r, k-r, len(newSeqs), k)
		})
	}
}

// freeTCPEndpoint returns a tcp endpoint whose port was free a moment
// ago, for tests that connect before anyone binds.
func freeTCPEndpoint(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return "tcp://" + ln.Addr().String()
}

// TestConnectBeforeBind: brook connects to an endpoint nobody listens on
// yet, and libzmq binds it later. PUSH queues what it sends meanwhile
// (up to its HWM, as libzmq does without IMMEDIATE) and delivers it in
// order once the peer is there; PULL simply starts receiving.
func TestConnectBeforeBind(t *testing.T) {
	endpoints := map[string]func(t *testing.T) string{
		"tcp": freeTCPEndpoint,
		"ipc": func(t *testing.T) string { return ipcEndpoint(t) },
	}
	for name, endpoint := range endpoints {
		t.Run(name+"/brook-push", func(t *testing.T) {
			t.Parallel()
			ctx := deadline(t)
			ep := endpoint(t)
			push := newBrook(t, socket.Push, socket.WithReconnectInterval(20*time.Millisecond))
			events := watchEvents(t, push)
			require.NoError(t, push.Connect(ep))
			for i := range 10 {
				requireSend(ctx, t, push, []byte(strconv.Itoa(i)))
			}
			events.waitType(ctx, t, socket.EventConnectDelayed)
			pull := startLibzmq(t, "PULL")
			pull.bind(ep)
			for i := range 10 {
				assert.Equal(t, [][]byte{[]byte(strconv.Itoa(i))}, pull.recv())
			}
		})
		t.Run(name+"/brook-pull", func(t *testing.T) {
			t.Parallel()
			ctx := deadline(t)
			ep := endpoint(t)
			pull := newBrook(t, socket.Pull, socket.WithReconnectInterval(20*time.Millisecond))
			events := watchEvents(t, pull)
			require.NoError(t, pull.Connect(ep))
			events.waitType(ctx, t, socket.EventConnectDelayed)
			push := startLibzmq(t, "PUSH")
			push.bind(ep)
			for i := range 10 {
				push.send([]byte(strconv.Itoa(i)))
			}
			for i := range 10 {
				got := requireRecv(ctx, t, pull)
				assert.True(t, len(got) == 1 && bytes.Equal(got[0], []byte(strconv.Itoa(i))), "message %d: %q", i, got)
			}
		})
	}
}
