//go:build unix

package zmtp

import (
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

// socketPair returns both ends of a connected unix stream socket pair:
// what one end writes is in the other's receive queue when Write returns.
func socketPair(t *testing.T) (net.Conn, net.Conn) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	require.NoError(t, err)
	conns := make([]net.Conn, 2)
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), "socketpair")
		c, err := net.FileConn(f)
		require.NoError(t, f.Close())
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Close() })
		conns[i] = c
	}
	return conns[0], conns[1]
}

// Bytes the peer sent that the reader has not taken yet count as traffic
// when a deadline comes: the PING counts as answered and the connection
// stays. Without them, the same silence drops the peer.
func TestHeartbeatCountsUnreadInput(t *testing.T) {
	a, b := socketPair(t)
	c := NewConn(a, "local", "peer", Options{})
	defer c.Close()
	c.hb = heartbeat{interval: time.Hour, timeout: 10 * time.Millisecond}
	// due runs the deadline check as if the reader had waited on the
	// stream for a second, and a PING had gone unanswered for half.
	due := func() error {
		c.hbMu.Lock()
		defer c.hbMu.Unlock()
		now := c.clock() + int64(time.Second)
		c.readSince.Store(now - int64(time.Second))
		c.beats.pingAt = now - int64(500*time.Millisecond)
		c.beats.nextPing = now + int64(time.Hour)
		_, _, err := c.dueLocked(now)
		return err
	}

	assert.False(t, c.inputWaiting())
	assert.ErrorIs(t, due(), transport.ErrPeerTimeout, "silent for 50 timeouts, nothing unread")

	_, err := b.Write([]byte{0})
	require.NoError(t, err)
	assert.True(t, c.inputWaiting())
	require.NoError(t, due(), "a byte waits unread")
	c.hbMu.Lock()
	assert.Zero(t, c.beats.pingAt, "the PING counts as answered")
	c.hbMu.Unlock()

	c.peerTTL.Store(int64(10 * time.Millisecond))
	require.NoError(t, due(), "the peer's TTL is kept too")

	_, err = a.Read(make([]byte, 1))
	require.NoError(t, err)
	assert.ErrorIs(t, due(), transport.ErrPeerTimeout, "nothing unread any more")
}

// The stream's end waiting unread counts as well: the reader will report
// it, rather than a heartbeat timeout.
func TestInputWaitingSeesEnd(t *testing.T) {
	a, b := socketPair(t)
	c := NewConn(a, "local", "peer", Options{})
	defer c.Close()
	require.NoError(t, b.Close())
	assert.True(t, c.inputWaiting())
	p, _ := net.Pipe()
	pc := NewConn(p, "l", "r", Options{})
	defer pc.Close()
	assert.False(t, pc.inputWaiting(), "not a socket")
}
