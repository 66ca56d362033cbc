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

// With SetBatchedCommands a chosen command no longer ends the batch: its
// handler runs in the middle of the batch and learns from MsgsRead which
// message it precedes; other commands still end the batch.
func TestReadMsgsBatchedCommands(t *testing.T) {
	client, server := connected(t, "PUSH", "PULL")
	cb, ok := server.(transport.CommandBatcher)
	require.True(t, ok, "inproc connections implement transport.CommandBatcher")
	var at []uint64
	var other []string
	server.SetCommandHandler(func(name string, data []byte) error {
		if name == "X-TAG" {
			at = append(at, cb.MsgsRead())
		} else {
			other = append(other, name)
		}
		return nil
	})
	cb.SetBatchedCommands(func(name []byte) bool { return string(name) == "X-TAG" })
	write := func(cmd string, body string) {
		if cmd != "" {
			require.NoError(t, client.WriteCommand(cmd, nil))
		}
		require.NoError(t, client.WriteMsg(transport.NewMsg([]byte(body))))
	}
	write("X-TAG", "a")
	write("", "b")
	write("X-TAG", "c")
	write("X-OTHER", "d")
	r := server.(batchReader)
	got, err := r.ReadMsgs(nil, 10)
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b", "c"}, bodies(got))
	assert.Equal(t, []uint64{0, 2}, at, "each X-TAG knows the index of the message after it")
	assert.Empty(t, other, "an unbatched command still ends the batch")
	assert.Equal(t, uint64(3), cb.MsgsRead())
	got, err = r.ReadMsgs(got[:0], 10)
	require.NoError(t, err)
	assert.Equal(t, []string{"d"}, bodies(got))
	assert.Equal(t, []string{"X-OTHER"}, other)
	assert.Equal(t, uint64(4), cb.MsgsRead())
}
