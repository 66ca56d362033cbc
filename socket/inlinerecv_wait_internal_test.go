package socket

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A Recv that comes after the REP's reader goroutine has delivered a
// request and before it hands its reading role over waits in the pattern
// with no role to read with. The reader must then read on for it: before,
// it parked with the role and the next request sat unread in the kernel
// until the role was reclaimed (20-40 ms; for ever with the role these
// tests keep), a lost wake-up.
func TestInlineRecvWaiterBeforeHandOver(t *testing.T) {
	ctx := rxCtx(t)
	rep := rxSocket(t, Rep) // keeps a handed-over role: a stall is a hang
	require.NoError(t, rep.Bind("tcp://127.0.0.1:0"))
	req := rxSocket(t, Req)
	require.NoError(t, req.Connect(rep.LastEndpoint()))

	gotFirst := make(chan struct{})
	var once sync.Once
	hook := func(s *Socket) {
		if s != rep {
			return
		}
		once.Do(func() {
			// Hold the reader between delivering the first request and
			// handing its role over until the application has taken that
			// request and waits for the next one in the pattern.
			select {
			case <-gotFirst:
			case <-ctx.Done():
				return
			}
			for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); {
				s.rx.mu.Lock()
				waiting := s.rx.waiting.Load()
				s.rx.mu.Unlock()
				if waiting > 0 {
					return
				}
				time.Sleep(time.Millisecond) // polled: the old code gives no signal
			}
		})
	}
	testHookBeforeHandOver.Store(&hook)
	t.Cleanup(func() { testHookBeforeHandOver.Store(nil) })

	require.NoError(t, req.Send(ctx, NewMsg([]byte("one"))))
	m, err := rep.Recv(ctx)
	require.NoError(t, err)
	close(gotFirst)
	require.NoError(t, rep.Send(ctx, m))
	reply, err := req.Recv(ctx)
	require.NoError(t, err)
	require.Equal(t, "one", string(reply.Frames[0]))
	require.NoError(t, req.Send(ctx, NewMsg([]byte("two"))))

	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	m, err = rep.Recv(rctx)
	require.NoError(t, err, "the second request was never read")
	require.Equal(t, "two", string(m.Frames[0]))
	require.NoError(t, rep.Send(ctx, m))
	reply, err = req.Recv(ctx)
	require.NoError(t, err)
	require.Equal(t, "two", string(reply.Frames[0]))
}
