package zmtp

import (
	"bytes"
	"io"

	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

// writeAsync runs fn (writes ending in a Flush) on a goroutine, as
// net.Pipe makes a flush wait for the reader; the test waits for it at
// the end.
func writeAsync(t *testing.T, fn func() error) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	t.Cleanup(func() { require.NoError(t, <-done) })
}

func frames(ms []transport.Msg) [][][]byte {
	out := make([][][]byte, len(ms))
	for i, m := range ms {
		out[i] = m.Frames
	}
	return out
}

// ReadMsgs returns the messages that arrived together, up to max, and
// never reads the stream again once it has one: a later write stays for
// the next call.
func TestReadMsgsTakesWhatArrived(t *testing.T) {
	w, r := pipeConns(t, Options{})
	mustHandshake(t, w, r, nil, nil)
	long := make([]byte, 1000) // a long frame header
	long[0] = 'L'
	writeAsync(t, func() error {
		for _, m := range []transport.Msg{
			transport.NewMsg([]byte("a")), transport.NewMsg([]byte("b"), []byte("c")),
			transport.NewMsg(long), transport.NewMsg([]byte("d")), transport.NewMsg([]byte("e")),
		} {
			if err := w.WriteMsg(m); err != nil {
				return err
			}
		}
		if err := w.Flush(); err != nil {
			return err
		}
		if err := w.WriteMsg(transport.NewMsg([]byte("f"))); err != nil {
			return err
		}
		return w.Flush()
	})
	got, err := r.ReadMsgs(nil, 3)
	require.NoError(t, err)
	assert.Equal(t, [][][]byte{{[]byte("a")}, {[]byte("b"), []byte("c")}, {long}}, frames(got), "max bounds the batch")
	got, err = r.ReadMsgs(got[:0], 100)
	require.NoError(t, err)
	assert.Equal(t, [][][]byte{{[]byte("d")}, {[]byte("e")}}, frames(got), "what arrived with them, not the later write")
	got, err = r.ReadMsgs(got[:0], 100)
	require.NoError(t, err)
	assert.Equal(t, [][][]byte{{[]byte("f")}}, frames(got))
}

// With a command handler, a command ends the batch: the handler runs only
// once the messages before it were taken. Without one, commands are
// handled in passing.
func TestReadMsgsStopsAtCommands(t *testing.T) {
	for _, handler := range []bool{true, false} {
		w, r := pipeConns(t, Options{})
		mustHandshake(t, w, r, nil, nil)
		var cmds []string
		if handler {
			r.SetCommandHandler(func(name string, data []byte) error {
				cmds = append(cmds, name+"="+string(data))
				return nil
			})
		}
		writeAsync(t, func() error {
			if err := w.WriteMsg(transport.NewMsg([]byte("a"))); err != nil {
				return err
			}
			if err := w.WriteCommand("X-CMD", []byte("1")); err != nil {
				return err
			}
			if err := w.WriteMsg(transport.NewMsg([]byte("b"))); err != nil {
				return err
			}
			return w.Flush()
		})
		got, err := r.ReadMsgs(nil, 10)
		require.NoError(t, err)
		if !handler {
			assert.Equal(t, [][][]byte{{[]byte("a")}, {[]byte("b")}}, frames(got))
			continue
		}
		assert.Equal(t, [][][]byte{{[]byte("a")}}, frames(got), "the command ends the batch")
		assert.Empty(t, cmds, "the handler waits for the messages before it")
		got, err = r.ReadMsgs(got[:0], 10)
		require.NoError(t, err)
		assert.Equal(t, [][][]byte{{[]byte("b")}}, frames(got))
		assert.Equal(t, []string{"X-CMD=1"}, cmds)
	}
}

// With SetBatchedCommands a chosen command no longer ends the batch: its
// handler runs in the middle of the batch and learns from MsgsRead which
// message it precedes; other commands still end the batch.
func TestReadMsgsBatchedCommands(t *testing.T) {
	w, r := pipeConns(t, Options{})
	mustHandshake(t, w, r, nil, nil)
	var at []uint64
	var other []string
	r.SetCommandHandler(func(name string, data []byte) error {
		if name == "X-TAG" {
			at = append(at, r.MsgsRead())
		} else {
			other = append(other, name)
		}
		return nil
	})
	r.SetBatchedCommands(func(name []byte) bool { return string(name) == "X-TAG" })
	writeAsync(t, func() error {
		for _, x := range []struct{ cmd, body string }{{"X-TAG", "a"}, {"", "b"}, {"X-TAG", "c"}, {"X-OTHER", "d"}} {
			if x.cmd != "" {
				if err := w.WriteCommand(x.cmd, []byte("1")); err != nil {
					return err
				}
			}
			if err := w.WriteMsg(transport.NewMsg([]byte(x.body))); err != nil {
				return err
			}
		}
		return w.Flush()
	})
	got, err := r.ReadMsgs(nil, 10)
	require.NoError(t, err)
	assert.Equal(t, [][][]byte{{[]byte("a")}, {[]byte("b")}, {[]byte("c")}}, frames(got))
	assert.Equal(t, []uint64{0, 2}, at, "each X-TAG knows the index of the message after it")
	assert.Empty(t, other, "an unbatched command still ends the batch")
	assert.Equal(t, uint64(3), r.MsgsRead())
	got, err = r.ReadMsgs(got[:0], 10)
	require.NoError(t, err)
	assert.Equal(t, [][][]byte{{[]byte("d")}}, frames(got))
	assert.Equal(t, []string{"X-OTHER"}, other)
	assert.Equal(t, uint64(4), r.MsgsRead())
}

// A command frame too short to hold its name ends the batch, and ReadMsg
// then reports it, whatever SetBatchedCommands says.
func TestReadMsgsBatchedCommandMalformed(t *testing.T) {
	c := &Conn{onCommand: func(string, []byte) error { return nil }}
	c.batched = func([]byte) bool { return true }
	assert.False(t, c.passes(nil))
	assert.False(t, c.passes([]byte{5, 'X', '-'}))
	assert.True(t, c.passes([]byte{2, 'X', '-'}))
	c.batched = func(name []byte) bool { return string(name) == "X-A" }
	assert.False(t, c.passes([]byte{2, 'X', '-'}))
	assert.True(t, c.passes([]byte{3, 'X', '-', 'A', 0}))
}

// A message whose end has not arrived is not waited for: the batch ends
// before it, and the next call reads it whole.
func TestReadMsgsLeavesPartialMessage(t *testing.T) {
	w, r := pipeConns(t, Options{})
	mustHandshake(t, w, r, nil, nil)
	// Raw frames on the writer's stream: "a" whole, then a 10-byte
	// message cut after 3 bytes of its body.
	writeAsync(t, func() error {
		if _, err := w.rw.Write([]byte{0, 1, 'a', 0, 10, '0', '1', '2'}); err != nil {
			return err
		}
		_, err := w.rw.Write([]byte("3456789"))
		return err
	})
	got, err := r.ReadMsgs(nil, 10)
	require.NoError(t, err)
	assert.Equal(t, [][][]byte{{[]byte("a")}}, frames(got), "the cut message is not waited for")
	got, err = r.ReadMsgs(got[:0], 10)
	require.NoError(t, err)
	assert.Equal(t, [][][]byte{{[]byte("0123456789")}}, frames(got))
}

// plainCodec passes parts through unchanged.
type plainCodec struct{}

func (plainCodec) Hello() [][]byte                                { return nil }
func (plainCodec) AppendEncode(dst, part []byte) []byte           { return append(dst, part...) }
func (plainCodec) Decode(p []byte, _ int64) ([]byte, bool, error) { return p, true, nil }

// With a codec (which may swallow parts), ReadMsgs returns one message
// per call.
func TestReadMsgsWithCodecOneAtATime(t *testing.T) {
	w, r := pipeConns(t, Options{Codec: plainCodec{}})
	mustHandshake(t, w, r, nil, nil)
	writeAsync(t, func() error {
		for _, b := range []string{"a", "b"} {
			if err := w.WriteMsg(transport.NewMsg([]byte(b))); err != nil {
				return err
			}
		}
		return w.Flush()
	})
	for _, want := range []string{"a", "b"} {
		got, err := r.ReadMsgs(nil, 10)
		require.NoError(t, err)
		assert.Equal(t, [][][]byte{{[]byte(want)}}, frames(got))
	}
}

// onceStream serves data, then counts the reads that found it used up
// (and fails them), so a test sees whether the stream was read again.
type onceStream struct {
	r     *bytes.Reader
	again int
}

func (s *onceStream) Read(p []byte) (int, error) {
	if s.r.Len() == 0 {
		s.again++
		return 0, io.ErrNoProgress
	}
	return s.r.Read(p)
}
func (s *onceStream) Write(p []byte) (int, error) { return len(p), nil }
func (s *onceStream) Close() error                { return nil }

// On a CURVE connection a boxed PING after a message looks like another
// message until it is opened: ReadMsgs must not read the stream for what
// follows the PING while it holds the message (it waited there for the
// peer's next message, which, for a request answered only once this one
// was delivered, never came).
func TestReadMsgsBoxedCommandDoesNotReadOn(t *testing.T) {
	box := newMessageBox(&fuzzMessageKey, prefixMsgC, 2)
	input := append(boxed(t, box, rawFrame(0, []byte("a"))),
		boxed(t, box, appendCommand(nil, cmdPing, []byte{0, 10}))...)
	s := &onceStream{r: bytes.NewReader(input)}
	c := NewConn(s, "local", "peer", Options{})
	c.maxMsg = 64 << 10
	c.initBuffers()
	c.unseal = &unsealer{box: newMessageBox(&fuzzMessageKey, prefixMsgC, 2)}
	c.ready.Store(true)
	defer c.Close()
	got, err := c.ReadMsgs(nil, 16)
	require.NoError(t, err)
	assert.Equal(t, [][][]byte{{[]byte("a")}}, frames(got))
	assert.Zero(t, s.again, "the stream was read again while a message waited in the batch")
	_, err = c.ReadMsg() // the PING is still there, then the stream ends
	require.Error(t, err)
	assert.Equal(t, 1, s.again)
}

// onceConn is a ready plain Conn reading input from an onceStream, with
// the given message size limit (0: none).
func onceConn(t *testing.T, input []byte, maxMsg int64) (*Conn, *onceStream) {
	t.Helper()
	s := &onceStream{r: bytes.NewReader(input)}
	c := NewConn(s, "local", "peer", Options{})
	c.maxMsg = maxMsg
	c.initBuffers()
	c.ready.Store(true)
	t.Cleanup(func() { _ = c.Close() })
	return c, s
}

// ReadMsgs' fast path for short single-frame messages takes exactly what
// ReadMsg would, in order, among the frames it leaves to ReadMsg: empty
// and 255-byte bodies, long and multipart frames, and commands passed on.
// Its bodies are capped, so an append to one never reaches the next.
func TestReadMsgsShortFramesAmongOthers(t *testing.T) {
	b255 := bytes.Repeat([]byte{'x'}, 255)
	b256 := bytes.Repeat([]byte{'y'}, 256)
	var input []byte
	for _, f := range [][]byte{
		rawFrame(0, []byte("a")), rawFrame(0, nil), rawFrame(0, b255), rawFrame(0, b256),
		rawFrame(flagMore, []byte("m1")), rawFrame(0, []byte("m2")),
		appendCommand(nil, cmdPing, []byte{0, 10}), rawFrame(0, []byte("b")),
	} {
		input = append(input, f...)
	}
	c, s := onceConn(t, input, 0)
	got, err := c.ReadMsgs(nil, 16)
	require.NoError(t, err)
	want := [][][]byte{{[]byte("a")}, {{}}, {b255}, {b256}, {[]byte("m1"), []byte("m2")}, {[]byte("b")}}
	require.Equal(t, want, frames(got), "one batch, in order")
	assert.Zero(t, s.again, "nothing more was read")
	assert.Equal(t, uint64(len(want)), c.MsgsRead())
	for i, m := range got[:3] {
		f := m.Frames[0]
		assert.Equal(t, len(f), cap(f), "message %d's body is capped", i)
		_ = append(f, '!')
	}
	assert.Equal(t, []byte("a"), got[0].Frames[0])
	assert.Equal(t, b255, got[2].Frames[0], "appends did not reach a neighbour")
}

// The fast path keeps the message size limit: a short frame above it
// ends the batch, and the next call reports it as ReadMsg does.
func TestReadMsgsShortFrameTooLarge(t *testing.T) {
	input := append(rawFrame(0, []byte("ok")), rawFrame(0, []byte("too long"))...)
	c, _ := onceConn(t, input, 4)
	got, err := c.ReadMsgs(nil, 16)
	require.NoError(t, err)
	assert.Equal(t, [][][]byte{{[]byte("ok")}}, frames(got))
	_, err = c.ReadMsgs(got[:0], 16)
	require.ErrorIs(t, err, transport.ErrTooLarge)
}
