package socket

import (
	"context"
	"encoding/binary"
	"sync"
	"testing"

	"github.com/brookmq/brook/transport"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gateConn is a connection whose first WriteMsg blocks until the gate
// opens, as a write into a full kernel buffer does; it records what is
// flushed.
type gateConn struct {
	fakeConn
	entered chan struct{} // closed when the first WriteMsg starts
	gate    chan struct{} // closed to let it finish
	once    sync.Once
	flushes chan struct{} // one token per Flush
}

func newGateConn() *gateConn {
	return &gateConn{
		fakeConn: fakeConn{failAfter: -1},
		entered:  make(chan struct{}),
		gate:     make(chan struct{}),
		flushes:  make(chan struct{}, 1000),
	}
}

func (c *gateConn) WriteMsg(m transport.Msg) error {
	c.once.Do(func() {
		close(c.entered)
		<-c.gate
	})
	return c.fakeConn.WriteMsg(m)
}

func (c *gateConn) Flush() error {
	err := c.fakeConn.Flush()
	c.flushes <- struct{}{}
	return err
}

func seqMsg(i int) Msg {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, uint64(i))
	return Msg{Frames: [][]byte{b}}
}

// A pipe never holds more than its HWM: a message the writer has taken
// but not flushed (its write blocked on a full kernel buffer) still
// counts, so the sender gets room for HWM messages in all, not HWM more.
func TestPipeHoldsAtMostHWM(t *testing.T) {
	const hwm = 10
	s, err := New(Push, WithSendHWM(hwm))
	require.NoError(t, err)
	defer s.Close()
	p := newPipe(s, 1, "test", true)
	c := newGateConn()
	ctx, cancel := context.WithCancel(context.Background())
	werr := make(chan error, 1)
	go func() { werr <- p.writeLoop(ctx, c) }()
	require.True(t, p.TrySend(seqMsg(0)))
	<-c.entered // the writer took message 0 and is stuck writing it
	for i := 1; i < hwm; i++ {
		require.True(t, p.TrySend(seqMsg(i)), "message %d is within the HWM", i)
	}
	assert.False(t, p.TrySend(seqMsg(hwm)), "the pipe holds %d messages: the HWM", hwm)
	assert.Equal(t, hwm, p.queued())
	close(c.gate)
	for p.queued() > 0 {
		<-c.flushes
	}
	assert.True(t, p.TrySend(seqMsg(hwm)), "room again once flushed")
	for p.queued() > 0 {
		<-c.flushes
	}
	cancel()
	require.ErrorIs(t, <-werr, context.Canceled)
	c.mu.Lock()
	defer c.mu.Unlock()
	require.Len(t, c.flushed, hwm+1)
	for i, v := range c.flushed {
		require.EqualValues(t, i, v)
	}
}

// The writer gives room back at half the HWM while it goes on writing,
// so a sender that keeps the pipe full is not held up until a whole HWM
// has been flushed; and it keeps no message alive once flushed.
func TestPipeFlushesAtLowWater(t *testing.T) {
	const hwm = 8
	s, err := New(Push, WithSendHWM(hwm))
	require.NoError(t, err)
	defer s.Close()
	p := newPipe(s, 1, "test", true)
	for i := range hwm {
		require.True(t, p.TrySend(seqMsg(i)))
	}
	c := &fakeConn{failAfter: -1}
	w := pipeWriter{p: p, conn: c, lwm: lowWater(hwm)}
	batch, _ := p.popAll(nil)
	w.pending = append(w.pending, unflushed{batch: batch})
	for i := range batch {
		require.NoError(t, w.write(&batch[i]))
		w.held++
		if w.held >= w.lwm {
			require.NoError(t, w.flushBefore(i+1))
		}
	}
	assert.Equal(t, hwm/2, lowWater(hwm))
	assert.Equal(t, 0, p.queued(), "all flushed at two low-water marks")
	for i := range batch {
		assert.Nil(t, batch[i].msg.Frames, "item %d is let go once flushed", i)
	}
	assert.Len(t, c.flushed, hwm)
}
