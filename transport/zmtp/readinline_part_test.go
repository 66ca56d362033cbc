package zmtp

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

// partStream is a stream of large messages read in part, with what may
// come between them: a small message, a PING, a multipart message that
// is gathered in the read buffer, and a message just big enough to be
// read in part. starts holds where each frame or command begins on the
// wire, and want the messages it carries.
type partStream struct {
	wire   []byte
	starts []int
	want   [][][]byte
}

func newPartStream() partStream {
	var s partStream
	add := func(frames [][]byte, wire ...[]byte) {
		for _, w := range wire {
			s.starts = append(s.starts, len(s.wire))
			s.wire = append(s.wire, w...)
		}
		if frames != nil {
			s.want = append(s.want, frames)
		}
	}
	big := func(n int, seed byte) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = seed + byte(i*7)
		}
		return b
	}
	a, c, e := big(64<<10, 1), big(32<<10, 2), big(64<<10, 3)
	head, tail := []byte("multipart"), big(20<<10, 4)
	add([][]byte{a}, rawFrame(0, a))
	add([][]byte{[]byte("b")}, rawFrame(0, []byte("b")))
	add(nil, appendCommand(nil, cmdPing, []byte{0, 0}, []byte("hb")))
	add([][]byte{c}, rawFrame(0, c))
	add([][]byte{head, tail}, rawFrame(flagMore, head), rawFrame(0, tail))
	add([][]byte{e}, rawFrame(0, e))
	return s
}

// cuts returns the points the stream is cut at: around every frame's
// start, and inside the bodies at the read buffers' edges.
func (s partStream) cuts() []int {
	seen := map[int]bool{}
	var cuts []int
	add := func(k int) {
		if k > 0 && k < len(s.wire) && !seen[k] {
			seen[k] = true
			cuts = append(cuts, k)
		}
	}
	for _, at := range s.starts {
		for _, d := range []int{-1, 0, 1, 2, 5, 8, 9, 10, 100, idleReadBuffer - 1, idleReadBuffer, idleReadBuffer + 9, 32 << 10, 40 << 10} {
			add(at + d)
		}
	}
	add(len(s.wire) - 1)
	return cuts
}

// readInlineUntilDrained reads c inline until it has read all the peer
// sent (sent reports when the peer's write has returned) and parsed all
// it can. It reads the stream only when the kernel holds something, so
// it never waits there for good; with nothing there and the peer still
// writing it looks again a moment later (no signal says when bytes
// arrive but the read it must not make). Every FillBuffer reads
// something: the messages read in part never fill the read buffer.
func readInlineUntilDrained(t *testing.T, c *Conn, msgs []transport.Msg, sent <-chan struct{}) []transport.Msg {
	t.Helper()
	done := false
	for {
		var err error
		msgs, err = c.ReadBuffered(msgs, 16)
		require.NoError(t, err)
		if c.inq.count(c.rw) == 0 {
			if done {
				return msgs
			}
			select {
			case <-sent:
				done = true // what it wrote is in the kernel: look once more
			case <-time.After(time.Millisecond):
			}
			continue
		}
		more, err := c.FillBuffer()
		require.NoError(t, err)
		require.True(t, more, "FillBuffer gave up with %d bytes unparsed", c.rend-c.rpos)
	}
}

// rawSendAsync writes b from the peer and reports when the write returned.
func rawSendAsync(p *rawPeer, b []byte) <-chan struct{} {
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		p.send(b)
	}()
	return sent
}

// A stream cut at any point is read inline up to the cut, the read then
// waits and is interrupted, and the rest is read either inline again or
// by ReadMsgs (the reader goroutine taking its role back): every message
// comes whole and in order, the PING is answered, and a large message cut
// inside its body was being read in part, straight into its own memory.
func TestReadInPartAtEveryCut(t *testing.T) {
	s := newPartStream()
	for _, k := range s.cuts() {
		for _, inline := range []bool{true, false} {
			// Heartbeats on (never due) so that reads are timed:
			// readSince says when FillBuffer waits on the stream.
			c, p := shaken(t, 1, &transport.Config{SocketType: "PULL", HeartbeatInterval: time.Hour}, Options{})
			require.True(t, c.InlineReadable())
			msgs := readInlineUntilDrained(t, c, nil, rawSendAsync(p, s.wire[:k]))
			checkPartAt(t, c, s, k)

			// A read that waits is cut short and loses nothing.
			require.False(t, interruptWaitingFill(t, c), "cut %d: an interrupted read reads nothing", k)
			c.ResumeRead()
			checkPartAt(t, c, s, k)

			sent := rawSendAsync(p, s.wire[k:])
			if inline {
				msgs = readInlineUntilDrained(t, c, msgs, sent)
			} else {
				for len(msgs) < len(s.want) {
					var err error
					msgs, err = c.ReadMsgs(msgs, 16)
					require.NoError(t, err, "cut %d", k)
				}
				<-sent
			}
			require.Len(t, msgs, len(s.want), "cut %d", k)
			for i, m := range msgs {
				require.Equal(t, s.want[i], m.Frames, "cut %d, message %d", k, i)
			}
			require.False(t, c.ReadPending(), "cut %d", k)
			name, data := p.readCommand()
			require.Equal(t, cmdPong, name, "cut %d", k)
			require.Equal(t, "hb", string(data))
			require.NoError(t, c.Close())
		}
	}
}

// interruptWaitingFill runs FillBuffer on a connection whose peer sends
// nothing, interrupts it once it waits on the stream (c's reads must be
// timed: readSince says when), and returns what it reported.
func interruptWaitingFill(t *testing.T, c *Conn) bool {
	t.Helper()
	waited := make(chan bool, 1)
	go func() {
		more, err := c.FillBuffer()
		assert.NoError(t, err)
		waited <- more
	}()
	require.Eventually(t, func() bool { return c.readSince.Load() != 0 }, 10*time.Second, time.Millisecond,
		"FillBuffer waits on the stream")
	c.InterruptRead()
	return <-waited
}

// checkPartAt checks what c holds of s once it has read its first k
// bytes: inside the body of a message read in part (32 KiB and more, a
// single frame), its header is taken and the body so far is in the
// body's own memory; anywhere else nothing is read in part.
func checkPartAt(t *testing.T, c *Conn, s partStream, k int) {
	t.Helper()
	for i, at := range s.starts {
		end := len(s.wire)
		if i+1 < len(s.starts) {
			end = s.starts[i+1]
		}
		if k < at || k >= end {
			continue
		}
		frame := s.wire[at:end]
		if frame[0] == flagLong && len(frame)-maxHeader >= 32<<10 && k-at >= maxHeader {
			require.NotNil(t, c.part, "cut %d: the message at %d is read in part", k, at)
			require.Equal(t, k-at-maxHeader, c.partGot, "cut %d", k)
			require.Equal(t, frame[maxHeader:k-at], c.part[:c.partGot], "cut %d", k)
			require.Equal(t, c.rpos, c.rend, "cut %d: the read buffer is empty meanwhile", k)
			return
		}
	}
	require.Nil(t, c.part, "cut %d: nothing is read in part", k)
}

// A large message read in part is taken whole by the reader goroutine
// when it takes its role back with the body only half there, and a
// failure of the stream meanwhile fails the connection as ReadMsg's do.
func TestReadInPartFinishedByReadMsg(t *testing.T) {
	body := bytes.Repeat([]byte("y"), 48<<10)
	wire := rawFrame(0, body)
	c, p := shaken(t, 1, nil, Options{})
	msgs := readInlineUntilDrained(t, c, nil, rawSendAsync(p, wire[:20<<10]))
	require.Empty(t, msgs)
	require.NotNil(t, c.part)
	got := make(chan hsMsg, 1)
	go func() {
		m, err := c.ReadMsg()
		got <- hsMsg{m, err}
	}()
	p.send(wire[20<<10:])
	r := <-got
	require.NoError(t, r.err)
	assert.Equal(t, [][]byte{body}, r.m.Frames)
	assert.Nil(t, c.part)

	// Cut again, then the peer hangs up: the failure is final.
	_ = readInlineUntilDrained(t, c, nil, rawSendAsync(p, wire[:30<<10]))
	require.NotNil(t, c.part)
	require.NoError(t, p.c.Close())
	_, err := c.ReadMsg()
	require.Error(t, err)
	_, err = c.FillBuffer()
	require.Error(t, err, "the failure is final")
}

// A message above the size limit is never read in part: it is gathered
// in the read buffer, and parsing it fails the connection as ReadMsg
// does, with nothing taken for its body.
func TestReadInPartOnlyWithinLimit(t *testing.T) {
	c, p := shaken(t, 1, &transport.Config{SocketType: "PULL", MaxMsgSize: 40 << 10}, Options{})
	go p.send(rawFrame(0, make([]byte, 48<<10)))
	for {
		_, err := c.ReadBuffered(nil, 1)
		require.Nil(t, c.part, "a message above the limit is never taken")
		if err != nil {
			require.ErrorIs(t, err, transport.ErrTooLarge)
			return
		}
		more, err := c.FillBuffer()
		require.NoError(t, err)
		require.True(t, more)
	}
}

// The inline limit a socket hands its role over below is the large read
// buffer's size.
func TestInlineMaxIsReadBufferSize(t *testing.T) {
	c, _ := shaken(t, 1, nil, Options{ReadBufferSize: 128 << 10})
	assert.Equal(t, 128<<10, c.InlineMax())
}
