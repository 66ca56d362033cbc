package socket

import (
	"context"
	"encoding/binary"
	"errors"
	"sync"
	"testing"

	"github.com/brookmq/brook/transport"
	"github.com/stretchr/testify/require"
)

// fakeConn records what is flushed and fails after a number of writes.
type fakeConn struct {
	mu        sync.Mutex
	failAfter int // WriteMsg calls before failing; < 0 never
	writes    int
	buffered  []uint64
	flushed   []uint64
	dead      bool
}

var errFake = errors.New("fake conn broken")

func (c *fakeConn) Handshake(context.Context, *transport.Config) (transport.PeerInfo, error) {
	return transport.PeerInfo{}, nil
}
func (c *fakeConn) ReadMsg() (transport.Msg, error) { return transport.Msg{}, errFake }
func (c *fakeConn) WriteMsg(m transport.Msg) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead || (c.failAfter >= 0 && c.writes >= c.failAfter) {
		c.dead = true
		return errFake
	}
	c.writes++
	c.buffered = append(c.buffered, binary.BigEndian.Uint64(m.Frames[0]))
	return nil
}
func (c *fakeConn) WriteSubscription([]byte, bool) error { return nil }
func (c *fakeConn) Flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		return errFake
	}
	c.flushed = append(c.flushed, c.buffered...)
	c.buffered = c.buffered[:0]
	return nil
}
func (c *fakeConn) WriteCommand(string, []byte) error          { return nil }
func (c *fakeConn) SetCommandHandler(transport.CommandHandler) {}
func (c *fakeConn) CloseWrite() error                          { return transport.ErrNotSupported }
func (c *fakeConn) Close() error                               { return nil }
func (c *fakeConn) LocalAddr() string                          { return "" }
func (c *fakeConn) RemoteAddr() string                         { return "" }

// A connection breaks mid-stream while a sender keeps the queue full; the
// next connection carries on with everything that was not flushed, in
// order, with no gap.
func TestPipeRequeueKeepsOrder(t *testing.T) {
	for _, failAfter := range []int{1, 7, 999, 1000, 1001, 2500, 5000} {
		s, err := New(Push, WithSendHWM(1000))
		require.NoError(t, err)
		p := newPipe(s, 1, "test", true)
		s.pat.Attach(p)
		const total = 20000
		ctx := context.Background()
		done := make(chan struct{})
		go func() {
			defer close(done)
			for i := 0; i < total; i++ {
				b := make([]byte, 8)
				binary.BigEndian.PutUint64(b, uint64(i))
				require.NoError(t, s.snd.Send(ctx, transport.Msg{Frames: [][]byte{b}}))
			}
		}()
		c1 := &fakeConn{failAfter: failAfter}
		err = p.writeLoop(ctx, c1)
		require.ErrorIs(t, err, errFake)
		c2 := &fakeConn{failAfter: -1}
		werr := make(chan error, 1)
		go func() { werr <- p.writeLoop(ctx, c2) }()
		<-done
		// Closing makes the writer return once all is flushed (linger).
		s.closing.Store(true)
		p.nudge()
		require.NoError(t, <-werr)
		all := append(append([]uint64(nil), c1.flushed...), c2.flushed...)
		require.Len(t, all, total, "failAfter=%d", failAfter)
		for i, v := range all {
			require.EqualValues(t, i, v, "failAfter=%d", failAfter)
		}
		s.closing.Store(false)
		s.Close()
	}
}
