package socket_test

import (
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/socket"
)

// countFDs counts this process's open file descriptors.
func countFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count file descriptors: %v", err)
	}
	return len(ents)
}

// Peers that connect and stall in every way a handshake can stall do not
// keep a good peer out, Close ends their handshakes (closing their
// connections), and the socket leaves no file descriptor behind.
func TestReviewStalledPeersDoNotLeak(t *testing.T) {
	ctx := testCtx(t)
	before := countFDs(t)
	pull, err := socket.New(socket.Pull)
	require.NoError(t, err)
	require.NoError(t, pull.Bind("tcp://127.0.0.1:0"))
	addr := strings.TrimPrefix(pull.LastEndpoint(), "tcp://")

	greeting := make([]byte, 64)
	greeting[0], greeting[8], greeting[9], greeting[10], greeting[11] = 0xFF, 1, 0x7F, 3, 1
	copy(greeting[12:], "NULL")
	openings := [][]byte{
		nil,                                // silent
		greeting[:1],                       // one byte
		greeting[:10],                      // the signature, as libzmq sends first
		greeting,                           // a greeting and no READY
		append(greeting, 0x04, 0x05, 0x04), // half a READY
	}
	var raws []net.Conn
	for i := range 20 {
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		raws = append(raws, c)
		if b := openings[i%len(openings)]; len(b) > 0 {
			_, err = c.Write(b)
			require.NoError(t, err)
		}
	}

	push, err := socket.New(socket.Push)
	require.NoError(t, err)
	require.NoError(t, push.Connect(pull.LastEndpoint()))
	require.NoError(t, push.Send(ctx, msgOf("through")))
	m, err := pull.Recv(ctx)
	require.NoError(t, err)
	assert.Equal(t, "through", string(m.Frames[0]))

	require.NoError(t, push.Close())
	require.NoError(t, pull.Close())
	for i, c := range raws {
		require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
		// A close with unread input resets the connection instead.
		_, err := io.Copy(io.Discard, c)
		if err != nil {
			assert.ErrorIs(t, err, syscall.ECONNRESET, "stalled peer %d: the socket closed its connection", i)
		}
		require.NoError(t, c.Close())
	}
	assert.Equal(t, before, countFDs(t), "file descriptors leaked")
}
