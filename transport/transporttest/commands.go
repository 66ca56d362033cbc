package transporttest

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

// eventLog records, in order, the messages a reader got and the commands
// its handler saw.
type eventLog struct {
	mu     sync.Mutex
	events []string
}

func (l *eventLog) add(s string) {
	l.mu.Lock()
	l.events = append(l.events, s)
	l.mu.Unlock()
}

func (l *eventLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.events...)
}

// logCommands installs a handler on c that logs "cmd:NAME:DATA", copying
// the data (it is valid only during the call).
func logCommands(c transport.Conn, log *eventLog) {
	c.SetCommandHandler(func(name string, data []byte) error {
		log.add(fmt.Sprintf("cmd:%s:%s", name, data))
		return nil
	})
}

// readLogged reads n messages from c, logging "msg:FRAMES" after each.
func (e *env) readLogged(c transport.Conn, n int, log *eventLog) {
	e.t.Helper()
	for i := range n {
		m, err := e.readMsg(c, fmt.Sprintf("message %d", i))
		require.NoError(e.t, err)
		log.add("msg:" + describe(m))
	}
}

// testCommands: commands written between messages reach the peer's
// handler in order with the messages, in both directions; their data is
// copied at WriteCommand, and the largest command allowed crosses whole.
func testCommands(e *env) {
	c, s := e.pair()
	var clog, slog eventLog
	logCommands(c, &clog)
	logCommands(s, &slog)

	data := []byte("offsets 1-9")
	require.NoError(e.t, c.WriteMsg(msg("A")))
	require.NoError(e.t, c.WriteCommand("X-ACK", data))
	copy(data, "overwritten") // the command already holds its own copy
	require.NoError(e.t, c.WriteMsg(msg("B", "b2")))
	require.NoError(e.t, c.WriteCommand("X-EMPTY", nil))
	require.NoError(e.t, c.WriteCommand("X-SECOND", []byte("2")))
	require.NoError(e.t, c.WriteMsg(msg("C")))
	require.NoError(e.t, c.Flush())
	e.readLogged(s, 3, &slog)
	assert.Equal(e.t, []string{
		"msg:" + describe(msg("A")),
		"cmd:X-ACK:offsets 1-9",
		"msg:" + describe(msg("B", "b2")),
		"cmd:X-EMPTY:",
		"cmd:X-SECOND:2",
		"msg:" + describe(msg("C")),
	}, slog.all())

	big := bytes.Repeat([]byte{'z'}, transport.MaxCommandSize-len("X-BIG"))
	require.NoError(e.t, s.WriteCommand("X-BIG", big))
	require.NoError(e.t, s.WriteMsg(msg("after big")))
	require.NoError(e.t, s.Flush())
	e.readLogged(c, 1, &clog)
	assert.Equal(e.t, []string{"cmd:X-BIG:" + string(big), "msg:" + describe(msg("after big"))}, clog.all())
}

// testBadCommands: names that are empty, too long or the protocol's own,
// and commands over MaxCommandSize, are refused with ErrBadCommand and
// nothing is sent: the connection carries on.
func testBadCommands(e *env) {
	c, s := e.pair()
	var slog eventLog
	logCommands(s, &slog)
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"", nil},
		{strings.Repeat("N", 256), nil},
		{"READY", nil}, {"ERROR", nil}, {"PING", []byte{0, 1}}, {"PONG", nil},
		{"SUBSCRIBE", []byte("t")}, {"CANCEL", nil}, {"HELLO", nil}, {"MESSAGE", nil},
		{"X-HUGE", make([]byte, transport.MaxCommandSize)},
	} {
		err := c.WriteCommand(tc.name, tc.data)
		assert.ErrorIs(e.t, err, transport.ErrBadCommand, "command %.20q (%d bytes)", tc.name, len(tc.data))
	}
	got := e.transfer(c, s, []transport.Msg{msg("still fine")})
	e.requireSame(msg("still fine"), got[0], "message after refused commands")
	assert.Empty(e.t, slog.all(), "no refused command reached the peer")
}

// testCommandsWithoutHandler: a peer with no handler drops commands and
// still gets every message.
func testCommandsWithoutHandler(e *env) {
	c, s := e.pair()
	require.NoError(e.t, c.WriteCommand("X-IGNORED", []byte("x")))
	got := e.transfer(c, s, []transport.Msg{msg("one"), msg("two")})
	e.requireSame(msg("one"), got[0], "first message")
	e.requireSame(msg("two"), got[1], "second message")
}

// testCommandHandlerError: an error from the handler ends the connection:
// ReadMsg returns it (wrapped), and the peer sees the connection end.
func testCommandHandlerError(e *env) {
	c, s := e.pair()
	bad := errors.New("malformed X-ACK")
	s.SetCommandHandler(func(name string, data []byte) error {
		if name == "X-ACK" {
			return bad
		}
		return nil
	})
	require.NoError(e.t, c.WriteCommand("X-OK", nil))
	require.NoError(e.t, c.WriteMsg(msg("first")))
	require.NoError(e.t, c.WriteCommand("X-ACK", []byte{0xff}))
	require.NoError(e.t, c.WriteMsg(msg("never")))
	require.NoError(e.t, c.Flush())
	m, err := e.readMsg(s, "the message before the bad command")
	require.NoError(e.t, err)
	e.requireSame(msg("first"), m, "first message")
	_, err = e.readMsg(s, "ReadMsg meeting the bad command")
	require.ErrorIs(e.t, err, bad)
	_, err = e.readMsg(c, "the peer's ReadMsg after the connection ended")
	assert.Error(e.t, err)
}

// testCloseWrite: after CloseWrite the peer reads everything written and
// then the end of the connection, while the half-closed side goes on
// reading what the peer sends until the peer closes (the way a socket
// lingers: half-close, then wait for the peer to hang up). Writing after
// CloseWrite fails with ErrClosed.
func testCloseWrite(e *env) {
	c, s := e.pair()
	const n = 20
	out := make([]transport.Msg, n)
	for i := range out {
		out[i] = seqMsg(uint64(i))
	}
	require.NoError(e.t, await(e, e.writeAll(c, out[:n-1]), "writer"))
	require.NoError(e.t, c.WriteMsg(out[n-1])) // buffered: CloseWrite flushes it
	require.NoError(e.t, c.CloseWrite())
	require.NoError(e.t, c.CloseWrite(), "CloseWrite is idempotent")
	assert.ErrorIs(e.t, c.WriteMsg(msg("late")), transport.ErrClosed)
	assert.ErrorIs(e.t, c.WriteCommand("X-LATE", nil), transport.ErrClosed)

	// The peer, not knowing yet, still writes to us, and we read it.
	back := []transport.Msg{msg("reply", "1"), msg("reply", "2")}
	got := e.transfer(s, c, back)
	e.requireSame(back[1], got[1], "reply after our CloseWrite")

	r := await(e, e.readN(s, n), "peer reading the half-closed stream")
	require.NoError(e.t, r.err, "read %d of %d", len(r.v), n)
	for i, m := range r.v {
		seq, err := seqOf(m)
		require.NoError(e.t, err)
		require.Equal(e.t, uint64(i), seq)
	}
	_, err := e.readMsg(s, "peer ReadMsg at the end of the half-closed stream")
	require.Error(e.t, err, "the peer sees the end after the last message")
	require.NoError(e.t, s.Close())
	_, err = e.readMsg(c, "ReadMsg after the peer closed")
	assert.Error(e.t, err)
}
