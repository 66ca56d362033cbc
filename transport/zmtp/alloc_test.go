package zmtp

import (
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

// TestWriteMsgDoesNotAllocate: encoding a message into the write buffer,
// and flushing it, allocates nothing.
func TestWriteMsgDoesNotAllocate(t *testing.T) {
	c, p := shaken(t, 1, &transport.Config{SocketType: "PUSH"}, Options{})
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		_, _ = io.Copy(io.Discard, p.c)
	}()
	msg := transport.NewMsg(make([]byte, 64), make([]byte, 300))
	allocs := testing.AllocsPerRun(10000, func() {
		if err := c.WriteMsg(msg); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs, "WriteMsg")
	allocs = testing.AllocsPerRun(100, func() {
		if err := c.Flush(); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs, "Flush")
	require.NoError(t, c.Close())
	<-drained
}

// TestReadMsgAllocatesPerSlab: reading small messages allocates only new
// slabs, a small fraction of an allocation per message.
func TestReadMsgAllocatesPerSlab(t *testing.T) {
	const n = 20000
	c, p := shaken(t, 1, nil, Options{})
	frame := rawFrame(0, make([]byte, 64))
	var stream []byte
	for range n {
		stream = append(stream, frame...)
	}
	sent := make(chan error, 1)
	go func() {
		_, err := p.c.Write(stream)
		sent <- err
	}()
	allocs := testing.AllocsPerRun(n-1, func() {
		if _, err := c.ReadMsg(); err != nil {
			t.Fatal(err)
		}
	})
	assert.Less(t, allocs, 0.1, "allocations per 64-byte message")
	require.NoError(t, <-sent)
}

// TestLargeWriteDoesNotAllocate: a frame larger than half the write buffer
// goes out in a vectored write without copying or allocating.
func TestLargeWriteDoesNotAllocate(t *testing.T) {
	c, p := shaken(t, 1, &transport.Config{SocketType: "PUSH"}, Options{WriteBufferSize: 4096})
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		_, _ = io.Copy(io.Discard, p.c)
	}()
	msg := transport.NewMsg(make([]byte, 10000))
	allocs := testing.AllocsPerRun(1000, func() {
		if err := c.WriteMsg(msg); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs)
	require.NoError(t, c.Close())
	<-drained
}
