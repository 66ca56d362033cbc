package quic

import (
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

// quicGoroutinesPerConn is what quic-go runs for each connection end: its
// connection loop and its send queue.
const quicGoroutinesPerConn = 2

// TestGoroutinesPerConn: a handshaken connection end adds quic-go's own
// goroutines and none of brook's: the liveness protocol runs from the
// connection's timer, not from a reader goroutine of its own. (The
// socket's reader and writer are the socket's, not counted here.)
func TestGoroutinesPerConn(t *testing.T) {
	const pairs = 4
	st, ct := testTransports(t, WithLiveness(20*time.Millisecond, 2*time.Second))
	l := listen(t, st)
	cfg := func(typ string) *transport.Config { return &transport.Config{SocketType: typ} }
	// The first pair starts the Transports' own goroutines (UDP readers).
	dialPair(t, ct, l, cfg("PUSH"), cfg("PULL"))
	settle := func() int {
		// Handshake helpers exit and ticks in progress finish: take the
		// lowest count seen over a moment.
		low := runtime.NumGoroutine()
		for range 50 {
			time.Sleep(2 * time.Millisecond)
			low = min(low, runtime.NumGoroutine())
		}
		return low
	}
	before := settle()
	conns := make([]*Conn, 0, 2*pairs)
	for range pairs {
		c, s := dialPair(t, ct, l, cfg("PUSH"), cfg("PULL"))
		conns = append(conns, c, s)
	}
	perEnd := float64(settle()-before) / float64(2*pairs)
	assert.LessOrEqual(t, perEnd, float64(quicGoroutinesPerConn), "goroutines per connection end")
	// The liveness protocol still runs on every end, at 20 ms.
	for _, c := range conns {
		start := c.lv.records.Load()
		require.Eventually(t, func() bool { return c.lv.records.Load() >= start+3 }, 5*time.Second, 5*time.Millisecond)
	}
}
