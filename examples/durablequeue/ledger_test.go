package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The ledger finds confirmed messages nobody processed, and sorts
// repeated deliveries by cause.
func TestLedger(t *testing.T) {
	l := newLedger()
	require.NoError(t, l.confirm(1, 0, 4))
	assert.ErrorContains(t, l.confirm(1, 3, 5), "durable twice")
	assert.ErrorContains(t, l.ack(0, key{1, 0}), "never processed")

	l.got(0, key{1, 0})
	require.NoError(t, l.ack(0, key{1, 0}))
	l.got(0, key{1, 0}) // again at the worker that acknowledged it
	l.got(1, key{1, 0}) // at another worker after an acknowledgement
	l.got(1, key{1, 1})
	l.got(0, key{1, 1}) // nobody acknowledged it before
	l.got(0, key{2, 0}) // sent by a producer killed before confirming it
	l.got(0, key{1, 2})

	assert.Equal(t, 1, l.sameWorker)
	assert.Equal(t, 1, l.otherWorker)
	assert.Equal(t, 1, l.beforeAck)
	assert.Equal(t, 7, l.deliveries)
	assert.Equal(t, 1, l.unconfirmedReceived())
	ks, n := l.missing(10)
	assert.Equal(t, 1, n)
	assert.Equal(t, []key{{1, 3}}, ks)
	assert.Equal(t, "1/3", formatKeys(ks))

	for _, bad := range []string{"1", "a/2", "1/", "/1"} {
		_, err := parseKey(bad)
		assert.Error(t, err, bad)
	}
	k, err := parseKey("12/345")
	require.NoError(t, err)
	assert.Equal(t, key{12, 345}, k)
}
