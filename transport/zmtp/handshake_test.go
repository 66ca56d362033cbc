package zmtp

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

func TestHandshakeOverPipe(t *testing.T) {
	a, b := pipeConns(t, Options{})
	ra, rb := handshakeBoth(t, a, b,
		&transport.Config{SocketType: "DEALER", Properties: map[string][]byte{"X-Hello": []byte("world")}},
		&transport.Config{SocketType: "router", Identity: []byte("me")})
	require.NoError(t, ra.err)
	require.NoError(t, rb.err)
	assert.Equal(t, "ROUTER", ra.info.SocketType)
	assert.Equal(t, []byte("me"), ra.info.Identity)
	assert.Equal(t, 31, ra.info.Version)
	assert.Equal(t, "DEALER", rb.info.SocketType)
	assert.Equal(t, []byte{}, rb.info.Identity)
	v, ok := rb.info.Property("x-hello")
	require.True(t, ok)
	assert.Equal(t, []byte("world"), v)
}
