package inproc

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

// With SetCredit, the writer learns how many of its TryWriteMsg and
// WriteMsgs messages the reader has returned, batch by batch: not those
// merely swapped into the reader's batch, not those written with
// WriteMsg or as subscriptions, and never one the reader did not return.
func TestCreditCountsReturnedMessages(t *testing.T) {
	dialer, accepter := newPair("credit")
	defer dialer.Close()
	var calls []int
	dialer.SetCredit(func(n int) { calls = append(calls, n) })

	require.NoError(t, dialer.WriteMsg(byteMsg(0)))                 // not credited
	require.NoError(t, dialer.WriteSubscription([]byte("t"), true)) // not credited
	n, err := dialer.WriteMsgs([]transport.Msg{byteMsg(1), byteMsg(2), byteMsg(3)})
	require.NoError(t, err)
	require.Equal(t, 3, n)
	ok, err := dialer.TryWriteMsg(byteMsg(4))
	require.NoError(t, err)
	require.True(t, ok)

	got, err := accepter.ReadMsgs(nil, 3) // 0, the subscription, 1
	require.NoError(t, err)
	require.Len(t, got, 3)
	assert.Equal(t, []int{1}, calls, "one credited message of the three returned; the rest wait in the reader's batch uncredited")
	m, err := accepter.ReadMsg()
	require.NoError(t, err)
	assert.Equal(t, []byte{2}, m.Frames[0])
	assert.Equal(t, []int{1, 1}, calls)
	got, err = accepter.ReadMsgs(got[:0], 10)
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, []int{1, 1, 2}, calls, "3 and 4 in one call")

	require.NoError(t, dialer.WriteMsg(byteMsg(5)))
	_, err = accepter.ReadMsg()
	require.NoError(t, err)
	assert.Equal(t, []int{1, 1, 2}, calls, "WriteMsg is never credited")
}
