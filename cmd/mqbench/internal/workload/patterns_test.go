package workload_test

import (
	"fmt"
	"testing"

	"github.com/brookmq/brook/cmd/mqbench/internal/config"
)

// shapes gives each pattern a shape that exercises it: several clients
// where the pattern takes them, two subscribers for pubsub (with a
// high-water mark above the count: PUB drops by design otherwise).
func shapes(p config.Pattern, mode config.Mode) []string {
	switch p {
	case config.PubSub:
		return []string{"--subscribers", "2", "--hwm", "5000"}
	case config.ReqRep:
		return []string{"--clients", "3"}
	case config.DealerRouter:
		return []string{"--clients", "2", "--inflight", "8"}
	case config.PushPull:
		if mode == config.Throughput {
			return []string{"--clients", "3"}
		}
		return []string{"--inflight", "4"}
	}
	if mode == config.Latency {
		return []string{"--inflight", "2"}
	}
	return nil
}

func TestEveryPatternBrook(t *testing.T) {
	for _, tr := range []string{"inproc", "tcp"} {
		for _, p := range config.Patterns() {
			for _, mode := range []config.Mode{config.Throughput, config.Latency} {
				t.Run(fmt.Sprintf("%s/%s/%s", tr, p, mode), func(t *testing.T) {
					args := append([]string{string(mode), "--pattern", string(p), "--transport", tr,
						"--count", "201", "--size", "64,1000"}, shapes(p, mode)...)
					cfg := parse(t, args...)
					requireComplete(t, cfg, run(t, args...))
				})
			}
		}
	}
}

func TestOtherImplementations(t *testing.T) {
	tests := [][]string{
		{"thr", "--impl", "zmq4", "--pattern", "pushpull", "--clients", "2"},
		{"lat", "--impl", "zmq4", "--pattern", "reqrep"},
		{"thr", "--impl", "zmq4", "--pattern", "pubsub", "--hwm", "5000"},
		{"lat", "--impl", "zmq4", "--pattern", "dealerrouter", "--inflight", "4"},
		{"thr", "--impl", "zmq4", "--pattern", "pair", "--transport", "ipc"},
		{"thr", "--impl", "raw", "--pattern", "pushpull"},
		{"lat", "--impl", "raw", "--pattern", "pushpull", "--inflight", "3"},
		{"thr", "--impl", "raw", "--pattern", "reqrep", "--transport", "ipc"},
		{"lat", "--impl", "raw", "--pattern", "pair", "--inflight", "5"},
		{"thr", "--impl", "raw", "--pattern", "pair", "--rate", "20000", "--count", "200"},
		{"thr", "--impl", "raw", "--pattern", "pubsub"},
		{"lat", "--impl", "raw", "--pattern", "pubsub", "--transport", "ipc", "--inflight", "2"},
	}
	for _, args := range tests {
		t.Run(fmt.Sprint(args), func(t *testing.T) {
			if !contains(args, "--count") {
				args = append(args, "--count", "300")
			}
			args = append(args, "--size", "64,2000")
			requireComplete(t, parse(t, args...), run(t, args...))
		})
	}
}

func contains(args []string, s string) bool {
	for _, a := range args {
		if a == s {
			return true
		}
	}
	return false
}

func TestOtherTransportsBrook(t *testing.T) {
	for _, args := range [][]string{
		{"thr", "--transport", "quic", "--pattern", "pushpull", "--clients", "2"},
		{"lat", "--transport", "quic", "--pattern", "reqrep"},
		{"thr", "--transport", "zstd+tcp", "--pattern", "dealerrouter"},
		{"lat", "--transport", "ipc", "--pattern", "pubsub"},
	} {
		t.Run(args[2]+"/"+args[4], func(t *testing.T) {
			args = append(args, "--count", "150", "--size", "64,4096")
			requireComplete(t, parse(t, args...), run(t, args...))
		})
	}
}
