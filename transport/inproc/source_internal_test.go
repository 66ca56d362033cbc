package inproc

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

// While a consumer is armed, the write that finds the queue empty calls
// the notify function instead of waking the reader, and the writes after
// it, which the woken consumer takes with it, call nothing; TakeReady
// takes at most max, oldest first, reports the credited ones for Settle,
// and leaves the rest queued; the last Disarm with messages left wakes
// the reader.
func TestArmedWriteNotifiesAndTakeReadyTakesPrefix(t *testing.T) {
	dialer, accepter := newPair("source")
	defer dialer.Close()
	var credits []int
	dialer.SetCredit(func(n int) { credits = append(credits, n) })
	notified := 0
	accepter.SetNotify(func() { notified++ })

	assert.False(t, accepter.Ready(), "nothing waits yet")
	assert.False(t, accepter.Arm(), "nothing waits yet")
	for i := range 3 {
		ok, err := dialer.TryWriteMsg(byteMsg(i))
		require.NoError(t, err)
		require.True(t, ok)
	}
	assert.Equal(t, 1, notified, "only the write that found the queue empty notifies")
	assert.False(t, accepter.in.readerWaiting, "the reader was not woken")

	assert.True(t, accepter.Ready())
	got, credited, err := accepter.TakeReady(nil, 2)
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.True(t, accepter.Ready(), "one message is left")
	assert.Equal(t, []byte{0}, got[0].Frames[0])
	assert.Equal(t, []byte{1}, got[1].Frames[0])
	assert.Equal(t, 2, credited)
	assert.Empty(t, credits, "nothing credited before Settle")
	accepter.Settle(credited)
	assert.Equal(t, []int{2}, credits)

	accepter.in.mu.Lock()
	accepter.in.readerWaiting = true // as if the reader waited in WaitReady
	accepter.in.mu.Unlock()
	accepter.Disarm()
	assert.False(t, accepter.in.readerWaiting, "the last Disarm wakes the reader for the message left")
	require.NoError(t, accepter.WaitReady())
	got, credited, err = accepter.TakeReady(got[:0], 10)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, []byte{2}, got[0].Frames[0])
	assert.Equal(t, 1, credited)
	assert.False(t, accepter.Ready(), "all taken")

	require.NoError(t, dialer.WriteMsg(byteMsg(3)))
	assert.Equal(t, 1, notified, "disarmed: no more notifications")
	require.NoError(t, dialer.Close())
	got, _, err = accepter.TakeReady(got[:0], 10)
	require.NoError(t, err, "what was written before the close is still read")
	require.Len(t, got, 1)
	_, _, err = accepter.TakeReady(got[:0], 10)
	assert.ErrorIs(t, err, transport.ErrClosed)
	assert.ErrorIs(t, accepter.WaitReady(), transport.ErrClosed)
}

// Arm and the write racing it never both miss each other: a consumer
// whose Arm reports nothing waiting is always notified by the write,
// however the two interleave, over many rounds (Arm counts itself
// without the queue's lock).
func TestArmRacingWriteIsNeverLost(t *testing.T) {
	dialer, accepter := newPair("armrace")
	defer dialer.Close()
	notified := make(chan struct{}, 1)
	accepter.SetNotify(func() {
		select {
		case notified <- struct{}{}:
		default:
		}
	})
	const rounds = 20000
	turn := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		for i := range rounds {
			<-turn
			if err := dialer.WriteMsg(byteMsg(i)); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	var got []transport.Msg
	for i := range rounds {
		turn <- struct{}{} // the write now races the Arm below
		if !accepter.Arm() {
			select {
			case <-notified:
			case <-time.After(10 * time.Second):
				accepter.Disarm()
				require.FailNow(t, "lost wake-up", "round %d: armed on an empty queue, and the write did not notify", i)
			}
		}
		var err error
		got, _, err = accepter.TakeReady(got[:0], 10)
		accepter.Disarm()
		require.NoError(t, err)
		require.Len(t, got, 1, "round %d", i)
		assert.Equal(t, []byte{byte(i)}, got[0].Frames[0])
		// A write that saw the consumer armed after Arm saw it may have
		// notified too: that token belongs to this round.
		select {
		case <-notified:
		default:
		}
	}
	require.NoError(t, <-done)
}
