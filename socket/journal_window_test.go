package socket

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFeedWindow(t *testing.T) {
	// The default never goes below DefaultFeedWindow, follows a larger
	// send HWM, and an unlimited HWM does not make it unlimited.
	assert.Equal(t, DefaultFeedWindow, feedWindow(journalOptions{}, DefaultHWM))
	assert.Equal(t, DefaultFeedWindow, feedWindow(journalOptions{}, 0))
	assert.Equal(t, 100_000, feedWindow(journalOptions{}, 100_000))
	// WithFeedWindow wins either way.
	assert.Equal(t, 10, feedWindow(journalOptions{feedWindow: 10}, 100_000))
	assert.Equal(t, 50_000, feedWindow(journalOptions{feedWindow: 50_000}, 1))

	for _, n := range []int{0, -1} {
		_, err := New(Pub, WithFeedWindow(n))
		require.ErrorIs(t, err, ErrBadOption, "window %d", n)
	}
	s, err := New(Pub, WithFeedWindow(16))
	require.NoError(t, err)
	assert.Equal(t, 16, s.opts.journal.feedWindow)
	require.NoError(t, s.Close())
}
