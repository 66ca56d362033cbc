package workload_test

import (
	"context"
	"testing"

	"github.com/brookmq/brook/cmd/mqbench/internal/config"
	"github.com/brookmq/brook/cmd/mqbench/internal/impl"
	"github.com/brookmq/brook/cmd/mqbench/internal/workload"
	"github.com/stretchr/testify/require"
)

func TestQuick(t *testing.T) {
	for _, args := range [][]string{
		{"thr", "--transport", "inproc", "--count", "1000"},
		{"lat", "--transport", "inproc", "--count", "1000"},
		{"thr", "--transport", "inproc", "--count", "1000", "--pattern", "pair"},
		{"lat", "--transport", "inproc", "--count", "1000", "--pattern", "pair", "--inflight", "8"},
		{"thr", "--transport", "tcp", "--count", "1000", "--impl", "raw"},
		{"lat", "--transport", "tcp", "--count", "1000", "--impl", "raw"},
		{"thr", "--transport", "tcp", "--count", "1000", "--impl", "zmq4"},
		{"lat", "--transport", "tcp", "--count", "1000", "--impl", "zmq4", "--pattern", "reqrep"},
		{"thr", "--transport", "tcp", "--count", "1000", "--impl", "zmq4", "--pattern", "pubsub", "--subscribers", "2"},
		{"thr", "--transport", "tcp", "--count", "1000", "--impl", "zmq4", "--pattern", "dealerrouter", "--clients", "2"},
		{"thr", "--transport", "tcp", "--count", "1000", "--impl", "libzmq", "--pattern", "pubsub", "--subscribers", "2"},
		{"lat", "--transport", "tcp", "--count", "1000", "--impl", "libzmq", "--pattern", "dealerrouter"},
		{"lat", "--transport", "ipc", "--count", "1000", "--impl", "libzmq", "--pattern", "pushpull", "--inflight", "4", "--size", "64,1k"},
		{"thr", "--transport", "inproc", "--count", "1000", "--impl", "libzmq", "--pattern", "pair", "--rate", "10000"},
	} {
		cfg, err := config.Parse(args)
		require.NoError(t, err)
		im, err := impl.New(cfg.Impl)
		require.NoError(t, err)
		res, err := workload.Run(context.Background(), cfg, im, workload.Options{})
		require.NoError(t, err, "%v", args)
		t.Logf("%v: %+v", args, res[0])
	}
}
