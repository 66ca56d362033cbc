package inproc_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

type batchReader interface {
	ReadMsgs(dst []transport.Msg, max int) ([]transport.Msg, error)
}

func bodies(ms []transport.Msg) []string {
	var out []string
	for _, m := range ms {
		out = append(out, string(m.Frames[0]))
	}
	return out
}

// ReadMsgs returns what the peer wrote so far, up to max; with a command
// handler a command ends the batch, so the handler runs after the
// messages written before it were taken.
func TestReadMsgsBatches(t *testing.T) {
	client, server := connected(t, "PUSH", "PULL")
	var cmds []string
	server.SetCommandHandler(func(name string, data []byte) error {
		cmds = append(cmds, name)
		return nil
	})
	for _, b := range []string{"a", "b", "c"} {
		require.NoError(t, client.WriteMsg(transport.NewMsg([]byte(b))))
	}
	require.NoError(t, client.WriteCommand("X-CMD", nil))
	require.NoError(t, client.WriteMsg(transport.NewMsg([]byte("d"))))
	r := server.(batchReader)
	got, err := r.ReadMsgs(nil, 2)
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, bodies(got))
	got, err = r.ReadMsgs(got[:0], 10)
	require.NoError(t, err)
	assert.Equal(t, []string{"c"}, bodies(got))
	assert.Empty(t, cmds)
	got, err = r.ReadMsgs(got[:0], 10)
	require.NoError(t, err)
	assert.Equal(t, []string{"d"}, bodies(got))
	assert.Equal(t, []string{"X-CMD"}, cmds)
	require.NoError(t, client.Close())
	_, err = r.ReadMsgs(got[:0], 10)
	assert.ErrorIs(t, err, transport.ErrClosed)
}
