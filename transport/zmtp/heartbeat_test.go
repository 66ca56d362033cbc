package zmtp

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

// hbWait bounds waits for something a heartbeat must cause; it only
// bounds a failure.
const hbWait = 10 * time.Second

// writeUntil writes msg and flushes in a loop until stop is set or a write
// fails, and returns the failure (nil once stopped).
func writeUntil(c *Conn, msg transport.Msg, stop *atomic.Bool) <-chan error {
	done := make(chan error, 1)
	go func() {
		for !stop.Load() {
			if err := c.WriteMsg(msg); err != nil {
				done <- err
				return
			}
			if err := c.Flush(); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	return done
}

// PINGs go out every interval however busy the writer is: a peer reading
// a constant stream of messages still sees them.
func TestHeartbeatPingsUnderTraffic(t *testing.T) {
	c, p := shaken(t, 1, &transport.Config{
		SocketType:        "PUSH",
		HeartbeatInterval: 10 * time.Millisecond,
		HeartbeatTimeout:  hbWait,
	}, Options{})
	_ = readAsync(c)
	var stop atomic.Bool
	written := writeUntil(c, transport.NewMsg([]byte("data")), &stop)
	pings, data := 0, 0
	for pings < 5 {
		flags, body := p.readFrame()
		if flags&flagCommand == 0 {
			data++
			continue
		}
		name, _, err := parseCommand(body)
		require.NoError(t, err)
		require.Equal(t, cmdPing, name)
		pings++
		p.send(appendCommand(nil, cmdPong))
	}
	stop.Store(true)
	assert.NoError(t, <-written)
	assert.Positive(t, data, "messages flowed between the PINGs")
}

// A peer that stops reading (its buffers full, the writer blocked in
// write) and sends nothing is dropped within the timeout: the PING due
// never gets out, but the timeout runs from when it was due, and the
// blocked writer is released with the timeout error.
func TestHeartbeatTimeoutWithWriterBlocked(t *testing.T) {
	c, _ := shaken(t, 1, &transport.Config{
		SocketType:        "PUSH",
		HeartbeatInterval: 10 * time.Millisecond,
		HeartbeatTimeout:  50 * time.Millisecond,
	}, Options{})
	reads := readAsync(c)
	var stop atomic.Bool
	defer stop.Store(true)
	written := writeUntil(c, transport.NewMsg(bytes.Repeat([]byte("x"), 64<<10)), &stop)
	ctx, cancel := context.WithTimeout(context.Background(), hbWait)
	defer cancel()
	select {
	case err := <-written:
		assert.ErrorIs(t, err, transport.ErrPeerTimeout)
	case <-ctx.Done():
		t.Fatal("the writer is still blocked on a peer that reads nothing")
	}
	assert.ErrorIs(t, (<-reads).err, transport.ErrPeerTimeout)
}

// Anything the peer sends after a PING answers it: a peer that replies
// to every PING with a message instead of a PONG stays connected for many
// timeouts.
func TestHeartbeatAnyTrafficCounts(t *testing.T) {
	const (
		interval = 50 * time.Millisecond
		// A second: each reply must arrive within it, on a loaded
		// machine too.
		timeout = time.Second
		// PINGs come at most one per interval: this many span at least
		// three timeouts.
		rounds = int(3 * timeout / interval)
	)
	c, p := shaken(t, 1, &transport.Config{
		SocketType:        "PULL",
		HeartbeatInterval: interval,
		HeartbeatTimeout:  timeout,
	}, Options{})
	got := make(chan hsMsg, 1)
	go func() {
		for {
			m, err := c.ReadMsg()
			if err != nil {
				got <- hsMsg{err: err}
				return
			}
			if string(m.Frames[0]) == "last" {
				got <- hsMsg{m: m}
				return
			}
		}
	}()
	for range rounds {
		name, _ := p.readCommand()
		require.Equal(t, cmdPing, name)
		p.send(rawFrame(0, []byte("alive")))
	}
	p.send(rawFrame(0, []byte("last")))
	r := <-got
	require.NoError(t, r.err, "dropped although every PING was answered by a message")
}

// PINGs and PONGs never land inside a message: while the stream ends in
// the middle of one (a large frame went out directly, the last frame is
// still buffered), a PONG waits for the writer's Flush and follows the
// message.
func TestControlFramesBetweenMessages(t *testing.T) {
	c, p := shaken(t, 1, &transport.Config{SocketType: "PUSH"}, Options{})
	big := bytes.Repeat([]byte("b"), DefaultWriteBufferSize)
	require.NoError(t, c.WriteMsg(transport.NewMsg([]byte("first"), big, []byte("last"))))
	c.notePing(0, []byte("ctx")) // as the reader does on a PING
	c.sendControl()              // as a beat does: the lock is free
	flags, body := p.readFrame()
	assert.Equal(t, byte(flagMore), flags)
	assert.Equal(t, "first", string(body))
	flags, body = p.readFrame()
	assert.Equal(t, byte(flagMore|flagLong), flags)
	assert.Len(t, body, len(big))
	require.NoError(t, c.Flush())
	flags, body = p.readFrame()
	assert.Zero(t, flags)
	assert.Equal(t, "last", string(body))
	name, data := p.readCommand()
	assert.Equal(t, cmdPong, name)
	assert.Equal(t, []byte("ctx"), data)
}

// A connection runs no timer while there is nothing to watch: not with
// heartbeats off, until the peer's first PING (whose PONG and TTL need
// one).
func TestHeartbeatTimerOnlyWhenNeeded(t *testing.T) {
	timer := func(c *Conn) bool {
		c.hbMu.Lock()
		defer c.hbMu.Unlock()
		return c.beats.timer != nil
	}
	c, p := shaken(t, 1, &transport.Config{SocketType: "PULL"}, Options{})
	reads := readAsync(c)
	p.send(rawFrame(0, []byte("m")))
	require.NoError(t, (<-reads).err)
	assert.False(t, timer(c), "heartbeats off, no PING from the peer")
	_ = readAsync(c)
	p.send(appendCommand(nil, cmdPing, []byte{0, 0}, []byte("c")))
	name, _ := p.readCommand()
	assert.Equal(t, cmdPong, name)
	assert.True(t, timer(c), "armed for the PONG")

	on, _ := shaken(t, 1, &transport.Config{SocketType: "PULL", HeartbeatInterval: time.Hour}, Options{})
	assert.True(t, timer(on), "heartbeats on")
}

// failingWrites is a stream whose reads come from r and whose writes
// fail once broken is set.
type failingWrites struct {
	r      io.Reader
	broken atomic.Bool
	writes atomic.Int32 // writes refused
}

var errWriteBroken = errors.New("write side broken (test)")

func (f *failingWrites) Read(p []byte) (int, error) { return f.r.Read(p) }
func (f *failingWrites) Write(p []byte) (int, error) {
	if f.broken.Load() {
		f.writes.Add(1)
		return 0, errWriteBroken
	}
	return len(p), nil
}
func (f *failingWrites) Close() error { return nil }

// A PONG that cannot be written (the peer closed after sending) ends our
// sending direction only: the messages the peer sent are all read, then
// the stream's end; the writer gets the write error.
func TestControlWriteFailureKeepsReading(t *testing.T) {
	stream := validPrefix()
	stream = append(stream, appendCommand(nil, cmdPing, []byte{0, 0})...)
	for i := range 5 {
		stream = append(stream, rawFrame(0, []byte{byte('a' + i)})...)
	}
	rw := &failingWrites{r: bytes.NewReader(stream)}
	c := NewConn(rw, "local", "peer", Options{})
	defer c.Close()
	_, err := c.Handshake(context.Background(), &transport.Config{SocketType: "PULL"})
	require.NoError(t, err)
	rw.broken.Store(true)

	m, err := c.ReadMsg() // reads the PING: a PONG is due
	require.NoError(t, err)
	assert.Equal(t, "a", string(m.Frames[0]))
	c.wmu.Lock() // a beat writing the PONG is done once the lock is ours
	if c.ctl.Load() != 0 {
		c.writeControlLocked() // no beat got to it yet
	}
	c.wmu.Unlock()
	require.EqualValues(t, 1, rw.writes.Load(), "the PONG was attempted and refused")
	assert.ErrorIs(t, c.WriteMsg(transport.NewMsg([]byte("x"))), errWriteBroken)

	for _, want := range []string{"b", "c", "d", "e"} {
		m, err := c.ReadMsg()
		require.NoError(t, err)
		assert.Equal(t, want, string(m.Frames[0]))
	}
	_, err = c.ReadMsg()
	assert.ErrorIs(t, err, io.EOF)
	assert.ErrorIs(t, c.WriteMsg(transport.NewMsg([]byte("x"))), io.EOF, "the connection ended with the stream")
}
