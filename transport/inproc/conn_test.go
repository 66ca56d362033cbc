package inproc_test

import (
	"encoding/binary"
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

// Several writers may share a Conn; each one's messages stay in order,
// and writers parked on a full queue are all woken as it drains.
func TestConcurrentWriters(t *testing.T) {
	c, s := connected(t, "PUSH", "PULL")
	const writers, each = 4, 5000
	errs := make(chan error, writers)
	for w := range writers {
		go func() {
			for i := range each {
				if err := c.WriteMsg(transport.NewMsg([]byte{byte(w)}, binary.BigEndian.AppendUint32(nil, uint32(i)))); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	var next [writers]uint32
	for range writers * each {
		m, err := s.ReadMsg()
		require.NoError(t, err)
		w, seq := m.Frames[0][0], binary.BigEndian.Uint32(m.Frames[1])
		require.Equal(t, next[w], seq, "writer %d out of order", w)
		next[w]++
	}
	for range writers {
		require.NoError(t, <-errs)
	}
}
