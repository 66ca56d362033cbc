package patterntest_test

import (
	"testing"

	"github.com/brookmq/brook/patterns"
	"github.com/brookmq/brook/patterns/patterntest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestUnread checks that every receiving pattern reports what it holds
// for the application, so the socket can count it when it closes.
func TestUnread(t *testing.T) {
	tests := []struct {
		typ, peer string
		in        patterns.Msg
	}{
		{"SUB", "PUB", patterntest.Msg("x")},
		{"XSUB", "PUB", patterntest.Msg("x")},
		{"XPUB", "SUB", sub("x")},
		{"DEALER", "ROUTER", patterntest.Msg("x")},
		{"ROUTER", "DEALER", patterntest.Msg("x")},
		{"REP", "REQ", patterntest.Msg("", "x")},
		{"REQ", "REP", patterntest.Msg("", "x")},
	}
	for _, tc := range tests {
		t.Run(tc.typ, func(t *testing.T) {
			pat, _ := newPattern(t, tc.typ, patterns.Config{})
			p := patterntest.NewPipe(1, tc.peer, nil)
			patterntest.Connect(pat, p)
			if s, ok := pat.(subscriber); ok && tc.typ != "XPUB" {
				require.NoError(t, s.Subscribe(nil))
			}
			if tc.typ == "REQ" {
				require.NoError(t, send(pat, ctxT(t), patterntest.Msg("q")))
			}
			assert.Equal(t, 0, unread(t, pat))
			require.NoError(t, inbound(pat, ctxT(t), p, tc.in))
			assert.Equal(t, 1, unread(t, pat))
			_, err := recv(pat, ctxT(t))
			require.NoError(t, err)
			assert.Equal(t, 0, unread(t, pat))
		})
	}
	pub, _ := newPattern(t, "PUB", patterns.Config{})
	_, receives := pub.(patterns.Receiver)
	assert.False(t, receives, "a PUB's application receives nothing")
}
