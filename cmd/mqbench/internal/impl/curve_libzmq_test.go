//go:build libzmq

package impl_test

import (
	"testing"

	"github.com/brookmq/brook/cmd/mqbench/internal/config"
	"github.com/brookmq/brook/cmd/mqbench/internal/impl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mqbench's --curve sockets of brook and libzmq talk to each other both
// ways: the two implementations run the same handshake with the same
// keys, so a compare run measures like against like.
func TestCurveBrookAndLibzmq(t *testing.T) {
	for _, c := range []struct{ srv, cli string }{
		{config.ImplLibzmq, config.ImplBrook},
		{config.ImplBrook, config.ImplLibzmq},
		{config.ImplLibzmq, config.ImplLibzmq},
	} {
		t.Run(c.srv+"-server", func(t *testing.T) {
			pull, push := curvePair(t, c.srv, c.cli, impl.CurveClient)
			body := make([]byte, 64<<10)
			body[len(body)-1] = 7
			require.NoError(t, push.Send(ctx(t), [][]byte{[]byte("x"), body}))
			m, err := pull.Recv(ctx(t))
			require.NoError(t, err)
			require.Len(t, m, 2)
			assert.Equal(t, "x", string(m[0]))
			assert.Equal(t, body, m[1])
		})
	}
}
