//go:build libzmq

package cli_test

import (
	"testing"

	"github.com/brookmq/brook/cmd/mqbench/internal/cli"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLibzmq runs workloads on libzmq (through pebbe/zmq4), which only
// builds with -tags libzmq and needs libzmq3-dev.
func TestLibzmq(t *testing.T) {
	for _, args := range [][]string{
		{"thr", "--pattern", "pushpull", "--transport", "tcp", "--clients", "2"},
		{"thr", "--pattern", "pubsub", "--transport", "ipc", "--subscribers", "2", "--hwm", "100000"},
		{"lat", "--pattern", "reqrep", "--transport", "inproc", "--clients", "2"},
		{"lat", "--pattern", "dealerrouter", "--transport", "tcp"},
		{"lat", "--pattern", "pushpull", "--transport", "tcp", "--inflight", "4"},
		{"thr", "--pattern", "pair", "--transport", "tcp", "--rate", "20000"},
	} {
		t.Run(args[0]+"/"+args[2]+"/"+args[4], func(t *testing.T) {
			code, out, errOut := mqbench(t, false, append(args, "--impl", "libzmq", "--count", "1500", "--size", "64,1500", "--json", "-")...)
			require.Equal(t, cli.ExitOK, code, errOut)
			doc := decode(t, out)
			require.Len(t, doc.Results, 2)
			for _, r := range doc.Results {
				assert.Equal(t, "libzmq", r.Impl)
				assert.Contains(t, r.Version, "libzmq 4.")
				assert.EqualValues(t, 1500, r.Sent)
				assert.Zero(t, r.Lost)
				assert.Equal(t, r.Sent*uint64(max(r.Subscribers, 1)), r.Received)
			}
		})
	}
}

func TestLibzmqWindowOnOneSocket(t *testing.T) {
	// libzmq sockets cannot send in one goroutine while another receives:
	// a window of requests runs in one goroutine that polls for replies.
	for _, extra := range [][]string{nil, {"--rate", "5000"}} {
		args := append([]string{"lat", "--impl", "libzmq", "--pattern", "dealerrouter", "--inflight", "8", "--count", "1000", "--json", "-"}, extra...)
		code, out, errOut := mqbench(t, false, args...)
		require.Equal(t, cli.ExitOK, code, errOut)
		r := decode(t, out).Results[0]
		assert.EqualValues(t, 1000, r.Sent)
		assert.EqualValues(t, 1000, r.Received)
	}
}

func TestCompareWithLibzmq(t *testing.T) {
	code, out, errOut := mqbench(t, false, "compare", "--pattern", "pushpull", "--transport", "tcp", "--count", "1500",
		"--rounds", "2", "--warmup", "0s")
	require.Equal(t, cli.ExitOK, code, errOut)
	assert.Contains(t, out, "brook/libzmq")
	assert.Contains(t, out, "brook/zmq4")
	assert.Contains(t, out, "brook/raw")
}
