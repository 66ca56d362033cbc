package inproc_test

import (
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/inproc"
)

func TestFramesAreNotCopied(t *testing.T) {
	c, s := connected(t, "PAIR", "PAIR")
	frame := []byte("zero copy")
	require.NoError(t, c.WriteMsg(transport.NewMsg(frame)))
	m, err := s.ReadMsg()
	require.NoError(t, err)
	assert.Same(t, &frame[0], &m.Frames[0][0])
}

func TestMessageWithoutFramesIsRefused(t *testing.T) {
	c, _ := connected(t, "PAIR", "PAIR")
	assert.ErrorIs(t, c.WriteMsg(transport.Msg{}), inproc.ErrNoFrames)
	assert.ErrorIs(t, c.WriteMsg(transport.Msg{Frames: [][]byte{}}), inproc.ErrNoFrames)
}

func TestPeerDrainsAfterClose(t *testing.T) {
	c, s := connected(t, "PUSH", "PULL")
	for i := range 10 {
		require.NoError(t, c.WriteMsg(transport.NewMsg([]byte{byte(i)})))
	}
	require.NoError(t, c.Close())
	for i := range 10 {
		m, err := s.ReadMsg()
		require.NoError(t, err, "message %d written before Close", i)
		assert.Equal(t, []byte{byte(i)}, m.Frames[0])
	}
	_, err := s.ReadMsg()
	assert.ErrorIs(t, err, transport.ErrClosed)
	assert.ErrorIs(t, err, net.ErrClosed)
	assert.ErrorIs(t, s.WriteMsg(transport.NewMsg([]byte("late"))), transport.ErrClosed)
	assert.ErrorIs(t, c.WriteMsg(transport.NewMsg([]byte("late"))), transport.ErrClosed)
}

func TestLocalCloseDiscardsUnread(t *testing.T) {
	c, s := connected(t, "PAIR", "PAIR")
	require.NoError(t, c.WriteMsg(transport.NewMsg([]byte("unread"))))
	require.NoError(t, s.Close())
	_, err := s.ReadMsg()
	assert.ErrorIs(t, err, transport.ErrClosed, "a closed end reads nothing more")
}

func TestCloseFailsBlockedWriter(t *testing.T) {
	c, s := connected(t, "PUSH", "PULL")
	for range inproc.QueueCapacity {
		require.NoError(t, c.WriteMsg(transport.NewMsg([]byte("fill"))))
	}
	errs := make(chan error, 1)
	go func() { errs <- c.WriteMsg(transport.NewMsg([]byte("over"))) }()
	require.NoError(t, s.Close())
	assert.ErrorIs(t, <-errs, transport.ErrClosed)
}

func TestAddrs(t *testing.T) {
	c, s := connected(t, "PAIR", "PAIR")
	for _, conn := range []transport.Conn{c, s} {
		assert.Equal(t, "inproc://pair", conn.LocalAddr())
		assert.Equal(t, "inproc://pair", conn.RemoteAddr())
		assert.NoError(t, conn.Flush())
	}
}
