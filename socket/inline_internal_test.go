package socket

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tryConn is a fakeConn whose TryFlush flushes everything, nothing, or
// fails, as told.
type tryConn struct {
	fakeConn
	try   string // "all", "none" or "fail"
	tries int
}

func (c *tryConn) TryFlush() (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tries++
	switch c.try {
	case "all":
		c.flushed = append(c.flushed, c.buffered...)
		c.buffered = c.buffered[:0]
		return true, nil
	case "fail":
		c.dead = true
		return false, errFake
	}
	return false, nil
}

func (c *tryConn) state() (flushed []uint64, tries int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]uint64(nil), c.flushed...), c.tries
}

// inlinePipe starts a REQ pipe's writer on c and waits until it parks.
func inlinePipe(t *testing.T, c *tryConn) (*Socket, *pipe, context.CancelFunc, <-chan error) {
	t.Helper()
	s, err := New(Req)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	p := newPipe(s, 1, "test", true)
	ctx, cancel := context.WithCancel(context.Background())
	werr := make(chan error, 1)
	go func() { werr <- p.writeLoop(ctx, c) }()
	require.Eventually(t, func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.wstate == wIdle
	}, 10*time.Second, time.Millisecond, "the writer parks with nothing to do")
	return s, p, cancel, werr
}

func (p *pipe) state() uint8 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.wstate
}

// A send that finds the writer parked takes its role and writes the
// message itself: written and flushed before Send returns, and the role
// is free again.
func TestInlineWrite(t *testing.T) {
	c := &tryConn{fakeConn: fakeConn{failAfter: -1}, try: "all"}
	s, p, cancel, werr := inlinePipe(t, c)
	for i := range 3 {
		require.True(t, p.TrySend(seqMsg(i)))
		assert.Equal(t, uint8(wInline), p.state(), "the sender holds the role")
		s.writeClaimed()
		flushed, tries := c.state()
		assert.Len(t, flushed, i+1, "flushed by the sending goroutine")
		assert.Equal(t, i+1, tries)
		assert.Equal(t, uint8(wIdle), p.state())
		assert.Zero(t, p.queued(), "its room is back")
	}
	cancel()
	require.ErrorIs(t, <-werr, context.Canceled)
	flushed, _ := c.state()
	assert.Equal(t, []uint64{0, 1, 2}, flushed)
}

// What the socket does not take at once is left to the writer
// goroutine, which flushes it (waiting if need be).
func TestInlineWriteHandsOver(t *testing.T) {
	c := &tryConn{fakeConn: fakeConn{failAfter: -1}, try: "none"}
	s, p, cancel, werr := inlinePipe(t, c)
	require.True(t, p.TrySend(seqMsg(0)))
	s.writeClaimed()
	require.Eventually(t, func() bool {
		flushed, _ := c.state()
		return len(flushed) == 1 && p.queued() == 0
	}, 10*time.Second, time.Millisecond, "the writer goroutine flushed it")
	cancel()
	require.ErrorIs(t, <-werr, context.Canceled)
}

// A failed inline flush ends the connection: the writer goroutine returns
// the error and the message is queued again for the next connection.
func TestInlineWriteFails(t *testing.T) {
	c := &tryConn{fakeConn: fakeConn{failAfter: -1}, try: "fail"}
	s, p, cancel, werr := inlinePipe(t, c)
	defer cancel()
	require.True(t, p.TrySend(seqMsg(7)))
	s.writeClaimed()
	require.ErrorIs(t, <-werr, errFake)
	p.mu.Lock()
	defer p.mu.Unlock()
	require.Len(t, p.q, 1)
	assert.Equal(t, seqMsg(7).Frames, p.q[0].msg.Frames)
	assert.Equal(t, 1, p.data, "still counted against the HWM")
	assert.Equal(t, uint8(wNone), p.wstate)
}

// The connection ending while a sender holds the role: the writer
// goroutine waits for it, and the message is written once.
func TestInlineWriteAtConnectionEnd(t *testing.T) {
	c := &tryConn{fakeConn: fakeConn{failAfter: -1}, try: "none"}
	s, p, cancel, werr := inlinePipe(t, c)
	require.True(t, p.TrySend(seqMsg(1)))
	cancel() // the writer goroutine wants the role back to end
	s.writeClaimed()
	err := <-werr
	require.True(t, errors.Is(err, context.Canceled) || errors.Is(err, errFake), "%v", err)
	flushed, _ := c.state()
	p.mu.Lock()
	defer p.mu.Unlock()
	assert.Equal(t, 1, len(flushed)+len(p.q), "flushed or queued again, once")
}

// A streaming type writes inline only when its writer has been parked
// for a while: a lone message goes out at once, the next ones of a
// stream go to the writer goroutine, which batches them.
func TestInlineWhenQuiet(t *testing.T) {
	s, err := New(Push)
	require.NoError(t, err)
	defer s.Close()
	c := &tryConn{fakeConn: fakeConn{failAfter: -1}, try: "all"}
	p := newPipe(s, 1, "test", true)
	ctx, cancel := context.WithCancel(context.Background())
	werr := make(chan error, 1)
	go func() { werr <- p.writeLoop(ctx, c) }()
	require.Eventually(t, func() bool { return p.state() == wIdle }, 10*time.Second, time.Millisecond)

	p.mu.Lock()
	p.parked = time.Now().Add(-time.Second) // quiet for a second
	p.mu.Unlock()
	require.True(t, p.TrySend(seqMsg(0)))
	assert.Equal(t, uint8(wInline), p.state(), "a lone message is written inline")
	s.writeClaimed()
	p.mu.Lock()
	assert.Less(t, time.Since(p.parked), time.Minute, "the inline write counts as activity")
	p.parked = time.Now().Add(time.Hour) // as if it had just written
	p.mu.Unlock()
	require.True(t, p.TrySend(seqMsg(1)))
	assert.NotEqual(t, uint8(wInline), p.state(), "a stream's next message goes to the writer goroutine")
	require.Eventually(t, func() bool {
		flushed, _ := c.state()
		return len(flushed) == 2
	}, 10*time.Second, time.Millisecond)
	cancel()
	require.ErrorIs(t, <-werr, context.Canceled)
	flushed, tries := c.state()
	assert.Equal(t, []uint64{0, 1}, flushed)
	assert.Equal(t, 1, tries, "only the lone message was flushed inline")
}
