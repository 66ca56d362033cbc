package netx

import (
	"context"
	"net"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestAcceptContext(t *testing.T) {
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer ln.Close()

	// A cancelled context unblocks a waiting Accept with ctx's error...
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := AcceptContext(ctx, ln, ln.AcceptTCP)
		errc <- err
	}()
	cancel()
	require.ErrorIs(t, <-errc, context.Canceled)

	// ...and leaves the listener usable: the deadline is cleared.
	go func() {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err == nil {
			c.Close()
		}
	}()
	c, err := AcceptContext(context.Background(), ln, ln.AcceptTCP)
	require.NoError(t, err)
	c.Close()

	// A context already done fails at once.
	_, err = AcceptContext(ctx, ln, ln.AcceptTCP)
	require.ErrorIs(t, err, context.Canceled)

	// A closed listener gives an error naming it.
	ln.Close()
	_, err = AcceptContext(context.Background(), ln, ln.AcceptTCP)
	require.ErrorIs(t, err, net.ErrClosed)
}
