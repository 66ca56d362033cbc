package quic

import (
	"bytes"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/internal/bufpool"
)

// Over QUIC too, once messages are released the reader carves small
// bodies from recycled slabs (the zmtp engine's reader reads the stream),
// and a message that is not released keeps its bytes however much
// traffic follows, among them messages whose frames straddle two slabs.
func TestRecycledSlabsKeepUnreleasedIntact(t *testing.T) {
	bufpool.SetActive(true)
	gc := debug.SetGCPercent(-1) // the pool keeps what it is given
	t.Cleanup(func() {
		bufpool.SetActive(false)
		debug.SetGCPercent(gc)
	})
	cli, srv := pair(t)
	const n = 5000
	body := func(i int) []byte {
		b := make([]byte, 300+i%900)
		for j := range b {
			b[j] = byte(i*31 + j)
		}
		return b
	}
	wrote := make(chan error, 1)
	go func() {
		for i := range n {
			if err := cli.WriteMsg(transport.NewMsg(body(i), body(n+i))); err != nil {
				wrote <- err
				return
			}
		}
		wrote <- cli.Flush()
	}()
	_, back := bufpool.SlabStats()
	kept := map[int]transport.Msg{}
	for i := range n {
		m, err := srv.ReadMsg()
		require.NoError(t, err)
		require.Len(t, m.Frames, 2)
		require.True(t, bytes.Equal(body(i), m.Frames[0]), "message %d", i)
		require.True(t, bytes.Equal(body(n+i), m.Frames[1]), "message %d", i)
		if i%40 == 0 {
			kept[i] = m
		} else {
			m.Release()
		}
	}
	require.NoError(t, <-wrote)
	for i, m := range kept {
		require.True(t, bytes.Equal(body(i), m.Frames[0]), "kept message %d changed", i)
		require.True(t, bytes.Equal(body(n+i), m.Frames[1]), "kept message %d changed", i)
	}
	_, after := bufpool.SlabStats()
	assert.Greater(t, after-back, int64(5), "slabs given back to the pool")
}
