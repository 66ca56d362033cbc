package quic

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/socket"
	"github.com/brookmq/brook/transport"
)

// inlineReader is what the socket layer uses to read a REQ or REP
// connection from the application's goroutine (socket/inlinerecv.go).
type inlineReader interface {
	transport.Conn
	InlineReadable() bool
	ReadPending() bool
	ReadBuffered(dst []transport.Msg, max int) ([]transport.Msg, error)
	FillBuffer() (bool, error)
	InterruptRead()
	ResumeRead()
}

var _ inlineReader = (*Conn)(nil)

// TestInlineRead: once shaken hands, a Conn reads inline. A FillBuffer
// waiting for data returns without reading when InterruptRead cuts it
// short, and so does every FillBuffer until ResumeRead; then the message
// sent meanwhile is read whole, by ReadBuffered and by ReadMsg after it,
// none lost.
func TestInlineRead(t *testing.T) {
	c, peer := dialUnshaken(t)
	assert.False(t, c.InlineReadable(), "before the handshake")
	closeBoth(c, peer)

	cli, srv := pair(t)
	require.True(t, srv.InlineReadable())
	require.False(t, srv.ReadPending())

	type fill struct {
		ok  bool
		err error
	}
	filled := make(chan fill, 1)
	go func() {
		ok, err := srv.FillBuffer()
		filled <- fill{ok, err}
	}()
	// Whether FillBuffer is already waiting or not, it returns without
	// reading once interrupted.
	srv.InterruptRead()
	select {
	case f := <-filled:
		require.NoError(t, f.err)
		assert.False(t, f.ok, "an interrupted FillBuffer read nothing")
	case <-time.After(10 * time.Second):
		t.Fatal("InterruptRead did not cut FillBuffer short")
	}
	require.NoError(t, cli.WriteMsg(transport.NewMsg([]byte("one"))))
	require.NoError(t, cli.WriteMsg(transport.NewMsg([]byte("two"), []byte("parts"))))
	require.NoError(t, cli.Flush())
	ok, err := srv.FillBuffer()
	require.NoError(t, err)
	assert.False(t, ok, "still interrupted")
	srv.ResumeRead()

	var got []transport.Msg
	for len(got) == 0 {
		ok, err := srv.FillBuffer()
		require.NoError(t, err)
		require.True(t, ok)
		got, err = srv.ReadBuffered(got, 1)
		require.NoError(t, err)
	}
	assert.Equal(t, [][]byte{[]byte("one")}, got[0].Frames)
	m, err := srv.ReadMsg()
	require.NoError(t, err)
	assert.Equal(t, [][]byte{[]byte("two"), []byte("parts")}, m.Frames)

	// The peer's end comes back from FillBuffer as from ReadMsg.
	require.NoError(t, cli.Close())
	for {
		ok, err := srv.FillBuffer()
		if err != nil {
			var ce *CloseError
			require.ErrorAs(t, err, &ce)
			assert.True(t, ce.Remote)
			break
		}
		require.True(t, ok)
		got, err = srv.ReadBuffered(got[:0], 1)
		require.NoError(t, err)
		require.Empty(t, got)
	}
}

// deadlineStream records the read deadlines set on it.
type deadlineStream struct {
	shortStream
	read []time.Time
}

func (f *deadlineStream) SetReadDeadline(t time.Time) error {
	f.read = append(f.read, t)
	return nil
}

func (f *deadlineStream) SetDeadline(t time.Time) error {
	f.read = append(f.read, t)
	return nil
}

// After Close, which sets a past deadline to unblock the engine's reads,
// no read deadline reaches the stream: a ResumeRead racing with Close
// must not clear Close's and leave a read blocked.
func TestDataStreamCloseDeadlineStays(t *testing.T) {
	f := &deadlineStream{}
	d := newDataStream(f)
	require.NoError(t, d.SetReadDeadline(time.Unix(1, 0)))
	require.NoError(t, d.SetReadDeadline(time.Time{}))
	require.NoError(t, d.Close())
	require.NoError(t, d.SetReadDeadline(time.Time{}))
	require.NoError(t, d.SetDeadline(time.Time{}))
	require.Len(t, f.read, 3)
	assert.Equal(t, time.Unix(1, 0), f.read[2], "Close's past deadline is the last")
	_, err := d.Read(make([]byte, 1))
	assert.ErrorIs(t, err, io.ErrClosedPipe)
}

// TestSocketInlineReadOutlivesPeer: a REP whose Recv reads its quic
// connection inline, waiting for the next request, sees its REQ close:
// the read ends, the connection goes, and the same Recv answers the next
// REQ to connect, over a new connection.
func TestSocketInlineReadOutlivesPeer(t *testing.T) {
	rep, req, _, ct := socketPair(t, socket.Rep, socket.Req)
	ctx := testCtx(t)
	trip := func(req *socket.Socket, i int) {
		t.Helper()
		body := []byte(fmt.Sprint("request ", i))
		require.NoError(t, req.Send(ctx, socket.NewMsg(body)))
		m, err := rep.Recv(ctx)
		require.NoError(t, err)
		require.Equal(t, body, m.Frames[0])
		require.NoError(t, rep.Send(ctx, m))
		m, err = req.Recv(ctx)
		require.NoError(t, err)
		require.Equal(t, body, m.Frames[0])
	}
	for i := range 20 {
		trip(req, i)
	}
	type recv struct {
		m   socket.Msg
		err error
	}
	got := make(chan recv, 1)
	go func() {
		m, err := rep.Recv(ctx)
		got <- recv{m, err}
	}()
	require.NoError(t, req.Close())

	req2, err := socket.New(socket.Req, socket.WithTransport(ct))
	require.NoError(t, err)
	t.Cleanup(func() { _ = req2.Close() })
	require.NoError(t, req2.Connect(rep.LastEndpoint()))
	require.NoError(t, req2.Send(ctx, socket.NewMsg([]byte("after"))))
	var r recv
	select {
	case r = <-got:
	case <-ctx.Done():
		t.Fatal("the waiting Recv never got the new peer's request")
	}
	require.NoError(t, r.err)
	assert.Equal(t, []byte("after"), r.m.Frames[0])
	require.NoError(t, rep.Send(ctx, r.m))
	m, err := req2.Recv(ctx)
	require.NoError(t, err)
	assert.Equal(t, []byte("after"), m.Frames[0])
	trip(req2, 99)
}

// TestSocketPullReadsInline: a PULL whose one peer streams small messages
// over quic:// receives them inline, read by the goroutine in Recv rather
// than handed over by the connection's reader goroutine (the socket
// layer's queue-socket inline receive): the ReadBuffered count of the
// connection goes up. Every message arrives, in order, counted once by
// one of the two ways of reading.
func TestSocketPullReadsInline(t *testing.T) {
	pull, push, bt, _ := socketPair(t, socket.Pull, socket.Push)
	// Generous: 20000 messages under -race on a loaded machine.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const n = 20000
	sent := make(chan error, 1)
	go func() {
		for i := range n {
			body := make([]byte, 64)
			binary.BigEndian.PutUint32(body, uint32(i))
			if err := push.Send(ctx, socket.NewMsg(body)); err != nil {
				sent <- err
				return
			}
		}
		sent <- nil
	}()
	for i := range n {
		m, err := pull.Recv(ctx)
		require.NoError(t, err)
		require.Equal(t, uint32(i), binary.BigEndian.Uint32(m.Frames[0]), "message %d out of order", i)
	}
	require.NoError(t, <-sent)
	c := onlyConn(t, bt)
	inline, reader := c.inlineMsgs.Load(), c.readerMsgs.Load()
	t.Logf("read inline %d, by the reader goroutine %d", inline, reader)
	assert.Equal(t, uint64(n), inline+reader, "every message counted once")
	assert.Positive(t, inline, "no message was read inline")
}
