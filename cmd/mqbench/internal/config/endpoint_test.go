package config_test

import (
	"strings"
	"testing"

	"github.com/brookmq/brook/cmd/mqbench/internal/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDeriveReturnEndpoint(t *testing.T) {
	tests := map[string]string{
		"tcp://127.0.0.1:5555":      "tcp://127.0.0.1:5556",
		"tcp://127.0.0.1:0":         "tcp://127.0.0.1:0",
		"tcp://[::1]:7000":          "tcp://[::1]:7001",
		"quic://localhost:9":        "quic://localhost:10",
		"zstd+tcp://127.0.0.1:4000": "zstd+tcp://127.0.0.1:4001",
		"ipc:///tmp/bench.sock":     "ipc:///tmp/bench.sock.ret",
		"inproc://bench":            "inproc://bench-ret",
	}
	for in, want := range tests {
		got, err := config.DeriveReturnEndpoint(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"tcp://127.0.0.1:65535", "tcp://nohost", "tcp://h:port", "noscheme"} {
		_, err := config.DeriveReturnEndpoint(bad)
		require.ErrorIs(t, err, config.ErrUsage, bad)
	}
}

func TestLocalEndpoint(t *testing.T) {
	assert.Equal(t, "tcp://127.0.0.1:0", config.LocalEndpoint("tcp", "a"))
	assert.Equal(t, "zstd+tcp://127.0.0.1:0", config.LocalEndpoint("zstd+tcp", "a"))
	assert.True(t, strings.HasPrefix(config.LocalEndpoint("inproc", "a"), "inproc://mqbench-"))
	ipc := config.LocalEndpoint("ipc", "a")
	assert.True(t, strings.HasPrefix(ipc, "ipc:///"), ipc)
	assert.NotEqual(t, ipc, config.LocalEndpoint("ipc", "b"))
}
