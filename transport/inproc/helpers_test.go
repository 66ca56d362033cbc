package inproc_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/inproc"
)

// testTimeout bounds every wait in this package's tests.
const testTimeout = 10 * time.Second

func ep(name string) transport.Endpoint {
	return transport.Endpoint{Scheme: "inproc", Address: name}
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// connected returns both ends of a handshaken connection between sockets
// of the given types, in a fresh namespace.
func connected(t testing.TB, clientType, serverType string) (client, server transport.Conn) {
	t.Helper()
	ctx := testCtx(t)
	tr := inproc.New(inproc.NewNamespace())
	l, err := tr.Listen(ep("pair"))
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	client, err = tr.Dial(ctx, ep("pair"))
	require.NoError(t, err)
	t.Cleanup(func() { client.Close() })
	server, err = l.Accept(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { server.Close() })

	errs := make(chan error, 1)
	go func() {
		_, err := server.Handshake(ctx, &transport.Config{SocketType: serverType})
		errs <- err
	}()
	_, err = client.Handshake(ctx, &transport.Config{SocketType: clientType})
	require.NoError(t, err)
	require.NoError(t, <-errs)
	return client, server
}

type dialResult struct {
	conn transport.Conn
	err  error
}

// dialAsync starts a Dial and returns where its result will arrive.
func dialAsync(ctx context.Context, tr transport.Transport, name string) <-chan dialResult {
	ch := make(chan dialResult, 1)
	go func() {
		c, err := tr.Dial(ctx, ep(name))
		ch <- dialResult{c, err}
	}()
	return ch
}
