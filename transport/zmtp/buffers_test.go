package zmtp

import (
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

// A connection reads a burst in bulk through its large buffer; once it has
// read everything that arrived it goes back to its small buffer, and the
// next collection frees the large one and the slabs.
func TestReadBufferShrinksWhenIdle(t *testing.T) {
	w, r := tcpConns(t, Options{})
	mustHandshake(t, w, r, nil, nil)
	const n, size = 200, 1000
	writeAsync(t, func() error {
		for i := range n {
			if err := w.WriteMsg(numbered(i, size)); err != nil {
				return err
			}
		}
		return w.Flush()
	})
	for i := range n {
		m, err := r.ReadMsg()
		require.NoError(t, err)
		require.Equal(t, numbered(i, size).Frames, m.Frames)
		if i == 10 {
			assert.NotNil(t, r.mem.rbox, "a burst is read through the large buffer")
			assert.Len(t, r.rbuf, DefaultReadBufferSize)
		}
	}
	require.NoError(t, w.WriteMsg(transport.NewMsg([]byte("after"))))
	require.NoError(t, w.Flush())
	m, err := r.ReadMsg()
	require.NoError(t, err)
	assert.Equal(t, []byte("after"), m.Frames[0])
	assert.Nil(t, r.mem.rbox, "the large buffer is put aside")
	assert.Len(t, r.rbuf, idleReadBuffer, "an idle connection reads into its small buffer")
	assert.Len(t, r.slab, len("after"), "a message read alone has a slab of its own size")
	runtime.GC()
	runtime.GC()
	assert.Nil(t, r.mem.rweak.Value(), "the collection freed the large buffer")
}

// countingRW counts the writes that reach the stream.
type countingRW struct {
	mu     sync.Mutex
	writes int
	bytes  int
}

func (c *countingRW) Read([]byte) (int, error) { select {} }
func (c *countingRW) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes++
	c.bytes += len(p)
	return len(p), nil
}
func (c *countingRW) Close() error { return nil }

// The write buffer starts small and grows as messages are buffered, never
// flushing on its own below half its largest size (the socket's writer
// counts on it to know what has left); once flushed it is put aside, and
// the next collection frees it.
func TestWriteBufferGrowsAndIsPutAside(t *testing.T) {
	rw := &countingRW{}
	c := NewConn(rw, "local", "peer", Options{})
	c.ready.Store(true)
	c.initBuffers()
	assert.Nil(t, c.wbuf, "nothing for writing before the first write")
	msg := transport.NewMsg(make([]byte, 100))
	written := 0
	for written < DefaultWriteBufferSize/2 {
		require.NoError(t, c.WriteMsg(msg))
		written += 102
	}
	assert.Zero(t, rw.writes, "nothing left before Flush")
	assert.Len(t, c.wbuf, DefaultWriteBufferSize, "grown to hold it all")
	require.NoError(t, c.Flush())
	assert.Equal(t, 1, rw.writes)
	assert.Equal(t, written, rw.bytes)
	assert.Nil(t, c.wbuf, "put aside once flushed")
	require.NoError(t, c.WriteMsg(msg))
	assert.Len(t, c.wbuf, DefaultWriteBufferSize, "taken back before a collection")
	require.NoError(t, c.Flush())
	runtime.GC()
	runtime.GC()
	assert.Nil(t, c.mem.wweak.Value(), "the collection freed it")
	require.NoError(t, c.WriteMsg(msg))
	assert.Len(t, c.wbuf, minWriteBuffer, "a fresh buffer starts small")
}

// A lone small message borrows one of the write buffers the connections
// share and gives it back once flushed, with no weak pointer
// left to it: connections that each write now and then leave no buffer
// behind them (a ROUTER answering thousands of peers once each used to
// leave 4 KiB apiece for the next collection).
func TestSmallWriteBuffersAreShared(t *testing.T) {
	conns := make([]*Conn, 2)
	for i := range conns {
		c := NewConn(&countingRW{}, "local", "peer", Options{})
		c.ready.Store(true)
		c.initBuffers()
		conns[i] = c
	}
	msg := transport.NewMsg(make([]byte, 100))
	write := func(c *Conn) {
		if err := c.WriteMsg(msg); err != nil {
			t.Fatal(err)
		}
		if err := c.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range conns {
		write(c)
		assert.Nil(t, c.wbuf, "put back once flushed")
		assert.True(t, c.mem.wbox == nil)
		assert.True(t, c.mem.wweak.Value() == nil, "no weak pointer to a shared buffer")
	}
	// Collections in between: a buffer held weakly would be freed by each
	// and made again; a shared one stays.
	const rounds = 50
	var before, after runtime.MemStats
	// Counted in the allocator's size class of a buffer (4 KiB) rather
	// than in bytes: the runtime allocates for itself during collections
	// (a few KiB when it starts threads, more on a loaded machine), never
	// objects that big.
	buffersMade := func(ms *runtime.MemStats) uint64 {
		for _, c := range ms.BySize {
			if c.Size == minWriteBuffer {
				return c.Mallocs
			}
		}
		t.Fatalf("no size class of %d bytes", minWriteBuffer)
		return 0
	}
	runtime.ReadMemStats(&before)
	for range rounds {
		for _, c := range conns {
			write(c)
		}
		runtime.GC()
	}
	runtime.ReadMemStats(&after)
	// Each held weakly, each round would make two buffers.
	assert.Zero(t, buffersMade(&after)-buffersMade(&before), "write buffers made")
}
