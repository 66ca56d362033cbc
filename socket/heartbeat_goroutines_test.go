package socket_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/brookmq/brook/socket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// goroutinesPerConn is what a tcp connection costs each side of it: a
// reader (the goroutine serving the pipe) and a writer. Heartbeats add
// none: PINGs, PONGs and deadlines ride on a timer and on the writer.
const goroutinesPerConn = 2

// A tcp PUSH with many PULL peers runs two goroutines per connection on
// each side, with heartbeats off and with them on: no control goroutine
// per connection.
func TestGoroutinesPerConnection(t *testing.T) {
	const peers = 40
	for _, hb := range []bool{false, true} {
		t.Run(fmt.Sprintf("heartbeats=%v", hb), func(t *testing.T) {
			ctx := testCtx(t)
			var opts []socket.Option
			if hb {
				// Beats are due only long after the count is taken, so
				// no timer goroutine can be running at that moment.
				opts = append(opts, socket.WithHeartbeat(time.Hour, time.Hour, time.Hour))
			}
			push := newSocket(t, socket.Push, opts...)
			ev, stop := push.Monitor()
			defer stop()
			require.NoError(t, push.Bind("tcp://127.0.0.1:0"))
			pulls := make([]*socket.Socket, peers)
			for i := range pulls {
				pulls[i] = newSocket(t, socket.Pull, opts...)
			}
			base := runtime.NumGoroutine()
			for _, p := range pulls {
				require.NoError(t, p.Connect(push.LastEndpoint()))
			}
			for range pulls {
				waitEvent(t, ctx, ev, socket.EventHandshakeSucceeded)
			}
			// One message per peer (round-robin, all attached now): each
			// side's reader and writer are running once it arrives.
			for i := range pulls {
				require.NoError(t, push.Send(ctx, msgOf(fmt.Sprint(i))))
			}
			for _, p := range pulls {
				_, err := p.Recv(ctx)
				require.NoError(t, err)
			}
			// The count is process-wide: a timer of an earlier test in
			// this package (a linger, a reconnect interval) firing now runs
			// a goroutine for a moment. Sampled until it is within the
			// bound; a third goroutine per connection (40 more) never is.
			// (A plain loop: assert.Eventually runs its condition on a
			// goroutine of its own, which the count would include.)
			bound := 2 * peers * goroutinesPerConn
			got := runtime.NumGoroutine() - base
			for deadline := time.Now().Add(5 * time.Second); got > bound && time.Now().Before(deadline); {
				time.Sleep(5 * time.Millisecond)
				got = runtime.NumGoroutine() - base
			}
			ok := got <= bound
			t.Logf("%d goroutines for %d tcp connections (%.2f per connection end)", got, peers, float64(got)/(2*peers))
			assert.True(t, ok, "%d goroutines for %d connections, both ends: more than %d", got, peers, bound)
		})
	}
}
