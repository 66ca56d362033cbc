package inproc

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

// Gated writes count in Gated from the write until the reader returns
// them (not merely swaps them into its batch), within the limit OpenGate
// set, and a closed gate refuses them; they are never credited.
func TestGateCountsUntilReturned(t *testing.T) {
	dialer, accepter := newPair("gate")
	defer dialer.Close()
	credits := 0
	dialer.SetCredit(func(n int) { credits += n })

	ok, err := dialer.TryWriteGated(byteMsg(0))
	require.NoError(t, err)
	assert.False(t, ok, "the gate starts closed")
	dialer.OpenGate(2)
	for i := range 2 {
		ok, err := dialer.TryWriteGated(byteMsg(i))
		require.NoError(t, err)
		require.True(t, ok)
	}
	ok, err = dialer.TryWriteGated(byteMsg(2))
	require.NoError(t, err)
	assert.False(t, ok, "the limit is reached")
	assert.Equal(t, 2, dialer.Gated())

	m, err := accepter.ReadMsg() // swaps both into the reader's batch
	require.NoError(t, err)
	assert.Equal(t, []byte{0}, m.Frames[0])
	assert.Equal(t, 1, dialer.Gated(), "the one in the reader's batch still counts")
	ok, err = dialer.TryWriteGated(byteMsg(2))
	require.NoError(t, err)
	require.True(t, ok, "room for one")

	assert.Equal(t, 2, dialer.CloseGate(10))
	ok, err = dialer.TryWriteGated(byteMsg(3))
	require.NoError(t, err)
	assert.False(t, ok, "closed")
	got, err := accepter.ReadMsgs(nil, 10)
	require.NoError(t, err)
	require.Len(t, got, 1)
	got, credited, err := accepter.TakeReady(nil, 10)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, []byte{2}, got[0].Frames[0])
	assert.Zero(t, credited)
	accepter.Settle(credited)
	assert.Zero(t, dialer.Gated())
	assert.Zero(t, credits, "gated messages are not credited")
}

// CloseGate asks for the room function only when the gated messages fill
// what the writer asked about; the reader then calls it once, at the
// Settle after the take that returned one, and not again.
func TestGateRoomOnlyWhenFull(t *testing.T) {
	dialer, accepter := newPair("gate-room")
	defer dialer.Close()
	rooms := 0
	dialer.SetGateRoom(func() { rooms++ })
	dialer.OpenGate(3)
	for i := range 3 {
		ok, err := dialer.TryWriteGated(byteMsg(i))
		require.NoError(t, err)
		require.True(t, ok)
	}
	assert.Equal(t, 3, dialer.CloseGate(4), "not full: 3 of 4")
	got, n, err := accepter.TakeReady(nil, 1)
	require.NoError(t, err)
	require.Len(t, got, 1)
	accepter.Settle(n)
	assert.Zero(t, rooms, "nobody waits")

	assert.Equal(t, 2, dialer.CloseGate(2), "full: 2 of 2")
	got, n, err = accepter.TakeReady(got[:0], 1)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Zero(t, rooms, "not before Settle")
	accepter.Settle(n)
	assert.Equal(t, 1, rooms)
	_, err = accepter.ReadMsg()
	require.NoError(t, err)
	assert.Equal(t, 1, rooms, "once per CloseGate that found it full")
}

// A writer that goes through the gate while it has room and, once it is
// full, closes it and waits for the room function before it opens it
// again, never loses a wake-up against a reader taking messages at the
// same time, by TakeReady or ReadMsgs, and never has more than the limit
// waiting. A CloseGate that asked for the room function outside the
// queue's lock, or a take that looked at the request before counting
// the messages down, would leave the writer waiting here.
func TestGateRoomRace(t *testing.T) {
	const (
		limit = 3
		total = 20000
	)
	dialer, accepter := newPair("gate-race")
	defer dialer.Close()
	room := make(chan struct{}, 1)
	dialer.SetGateRoom(func() {
		select {
		case room <- struct{}{}:
		default:
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// A lost wake-up leaves both sides waiting: the deadline ends the
	// reader's wait too.
	stop := context.AfterFunc(ctx, func() { accepter.Close() })
	defer stop()
	werr := make(chan error, 1)
	go func() {
		dialer.OpenGate(limit)
		for i := 0; i < total; {
			ok, err := dialer.TryWriteGated(byteMsg(i))
			if err != nil {
				werr <- err
				return
			}
			if ok {
				i++
				continue
			}
			if dialer.CloseGate(limit) >= limit {
				select {
				case <-room:
				case <-ctx.Done():
					werr <- ctx.Err()
					return
				}
			}
			dialer.OpenGate(limit)
		}
		werr <- nil
	}()
	next := 0
	var got []transport.Msg
	for next < total {
		require.NoError(t, ctx.Err(), "the writer waits for room after %d messages", next)
		var err error
		if next%2 == 0 {
			got, err = accepter.ReadMsgs(got[:0], 2)
		} else if err = accepter.WaitReady(); err == nil {
			var n int
			got, n, err = accepter.TakeReady(got[:0], 2)
			accepter.Settle(n)
		}
		require.NoError(t, err, "the writer waits for room after %d messages", next)
		for _, m := range got {
			require.Equal(t, byte(next), m.Frames[0][0], "message %d", next)
			next++
		}
		require.LessOrEqual(t, dialer.Gated(), limit)
	}
	require.NoError(t, <-werr)
}
