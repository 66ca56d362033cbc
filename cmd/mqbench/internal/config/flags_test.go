package config_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/brookmq/brook/cmd/mqbench/internal/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseDefaults(t *testing.T) {
	c, err := config.Parse([]string{"thr"})
	require.NoError(t, err)
	assert.Equal(t, config.Throughput, c.Mode)
	assert.Equal(t, config.PushPull, c.Pattern)
	assert.Equal(t, "tcp", c.Transport)
	assert.Equal(t, []int{64}, c.Sizes)
	assert.EqualValues(t, config.DefaultThroughputCount, c.Count)
	assert.Equal(t, config.Both, c.Role)
	assert.Equal(t, config.ImplBrook, c.Impl)
	assert.Equal(t, 1, c.Inflight)
	assert.Equal(t, config.PacerSleep, c.Pacer)
	assert.Equal(t, 10*time.Minute, c.Timeout)

	c, err = config.Parse([]string{"lat", "--pattern", "dealerrouter"})
	require.NoError(t, err)
	assert.EqualValues(t, config.DefaultLatencyCount, c.Count)
	assert.Equal(t, 1, c.Inflight, "latency defaults to one request in flight")

	c, err = config.Parse([]string{"thr", "--pattern", "dealerrouter"})
	require.NoError(t, err)
	assert.Equal(t, config.DefaultDealerInflight, c.Inflight)
	assert.True(t, c.RoundTrip())
}

func TestParseFlags(t *testing.T) {
	c, err := config.Parse([]string{"lat", "-pattern=pubsub", "--subscribers", "3", "--endpoint", "tcp://127.0.0.1:6000",
		"--size", "64..1024x4,100", "--duration", "2s", "--warmup", "100ms", "--rate", "5000", "--pacer", "spin",
		"--hwm", "50", "--role", "local", "--impl", "zmq4", "--json", "-", "--hgrm", "x.hgrm"})
	require.NoError(t, err)
	assert.Equal(t, config.PubSub, c.Pattern)
	assert.Equal(t, 3, c.Subscribers)
	assert.Equal(t, 3, c.Fanout())
	assert.Equal(t, 1, c.Drivers())
	assert.Equal(t, "tcp", c.Transport, "the endpoint's scheme sets the transport")
	assert.Equal(t, []int{64, 256, 1024, 100}, c.Sizes)
	assert.Equal(t, 2*time.Second, c.Duration)
	assert.Zero(t, c.Count)
	assert.InDelta(t, 5000, c.Rate, 0)
	assert.Equal(t, config.PacerSpin, c.Pacer)
	assert.Equal(t, config.Local, c.Role)
	assert.Equal(t, 4*(2*time.Second+100*time.Millisecond)+time.Minute, c.Timeout)
}

func TestParseCompare(t *testing.T) {
	c, err := config.Parse([]string{"compare", "--mode", "lat", "--pattern", "reqrep", "--impls", "brook, zmq4", "--rounds", "5", "--curve"})
	require.NoError(t, err)
	assert.Equal(t, "compare", c.Command)
	assert.Equal(t, config.Latency, c.Mode)
	assert.Equal(t, []string{"brook", "zmq4"}, c.Impls)
	assert.Equal(t, 5, c.Rounds)
	assert.True(t, c.Curve)
	assert.Equal(t, config.DefaultCompareWarmup, c.Warmup)
}

func TestParseHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--help"}, {"help"}, {"thr", "-h"}, {"compare", "--help"}} {
		_, err := config.Parse(args)
		require.ErrorIs(t, err, config.ErrHelp, "%v", args)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string // part of the message
	}{
		{"no subcommand", nil, "missing subcommand"},
		{"unknown subcommand", []string{"bench"}, `unknown subcommand "bench"`},
		{"unknown flag", []string{"thr", "--colour"}, "flag provided but not defined: -colour"},
		{"stray argument", []string{"thr", "extra"}, `unexpected argument "extra"`},
		{"unknown pattern", []string{"thr", "--pattern", "pushpop"}, `unknown --pattern "pushpop"`},
		{"unknown transport", []string{"thr", "--transport", "udp"}, `unknown transport "udp"`},
		{"unknown impl", []string{"thr", "--impl", "nanomsg"}, `unknown --impl "nanomsg"`},
		{"unknown role", []string{"thr", "--role", "middle"}, `unknown --role "middle"`},
		{"curve over quic", []string{"thr", "--curve", "--transport", "quic"}, "--curve needs tcp or ipc"},
		{"curve over inproc", []string{"thr", "--curve", "--transport", "inproc"}, "--curve needs tcp or ipc"},
		{"bad size", []string{"thr", "--size", "big"}, `size "big" is not a number`},
		{"zero size", []string{"thr", "--size", "0"}, "out of range"},
		{"size below header", []string{"thr", "--size", "16"}, "below 28 bytes"},
		{"size too big", []string{"thr", "--size", "512m"}, "out of range"},
		{"sweep without factor", []string{"thr", "--size", "64..1024"}, "needs a factor"},
		{"sweep down", []string{"thr", "--size", "1024..64x2"}, "goes down"},
		{"sweep factor 1", []string{"thr", "--size", "64..1024x1"}, "factor"},
		{"empty size", []string{"thr", "--size", ""}, "empty"},
		{"rate without end", []string{"thr", "--rate", "1000"}, "--rate needs --duration or --count"},
		{"negative rate", []string{"thr", "--rate", "-1", "--count", "5"}, "--rate -1"},
		{"count and duration", []string{"thr", "--count", "5", "--duration", "1s"}, "exclude each other"},
		{"zero count", []string{"thr", "--count", "0"}, "--count 0"},
		{"negative duration", []string{"thr", "--duration", "-1s"}, "--duration -1s"},
		{"bad duration", []string{"thr", "--duration", "soon"}, "invalid value"},
		{"zero clients", []string{"thr", "--clients", "0"}, "--clients 0"},
		{"negative hwm", []string{"thr", "--hwm", "-2"}, "--hwm -2"},
		{"pubsub clients", []string{"thr", "--pattern", "pubsub", "--clients", "2"}, "use --subscribers"},
		{"subscribers outside pubsub", []string{"thr", "--subscribers", "2"}, "pubsub only"},
		{"pair clients", []string{"thr", "--pattern", "pair", "--clients", "2"}, "exactly two sockets"},
		{"req window", []string{"lat", "--pattern", "reqrep", "--inflight", "4"}, "one request in flight"},
		{"pushpull lat clients", []string{"lat", "--clients", "2"}, "--clients must be 1"},
		{"inflight on one-way thr", []string{"thr", "--inflight", "4"}, "--inflight applies to round trips"},
		{"inproc across processes", []string{"thr", "--transport", "inproc", "--role", "local"}, "inproc cannot connect"},
		{"remote without endpoint", []string{"thr", "--role", "remote"}, "--role remote needs --endpoint"},
		{"endpoint without scheme", []string{"thr", "--endpoint", "127.0.0.1:5555"}, "want scheme://address"},
		{"endpoint vs transport", []string{"thr", "--transport", "ipc", "--endpoint", "tcp://127.0.0.1:1"}, "does not match --transport"},
		{"return endpoint transport", []string{"lat", "--endpoint", "tcp://127.0.0.1:1", "--return-endpoint", "ipc:///x"}, "same transport"},
		{"both outputs on stdout", []string{"thr", "--json", "-", "--csv", "-"}, "both want stdout"},
		{"hgrm to stdout", []string{"thr", "--hgrm", "-"}, "give a path"},
		{"bad pacer", []string{"thr", "--pacer", "nap"}, `--pacer "nap"`},
		{"idle timeout", []string{"thr", "--idle-timeout", "0s"}, "--idle-timeout"},
		{"compare mode", []string{"compare", "--mode", "fast"}, `--mode "fast"`},
		{"compare role", []string{"compare", "--role", "local"}, "--role must be both"},
		{"compare rounds", []string{"compare", "--rounds", "0"}, "--rounds 0"},
		{"compare impls order", []string{"compare", "--impls", "zmq4,brook"}, "must start with brook"},
		{"compare impls alone", []string{"compare", "--impls", "brook"}, "at least one other"},
		{"compare impls twice", []string{"compare", "--impls", "brook,zmq4,zmq4"}, "twice"},
		{"compare impls unknown", []string{"compare", "--impls", "brook,nng"}, `unknown implementation "nng"`},
		{"compare flag on thr", []string{"thr", "--rounds", "3"}, "flag provided but not defined: -rounds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse(tt.args)
			require.ErrorIs(t, err, config.ErrUsage)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestPatternHelpers(t *testing.T) {
	assert.True(t, config.PushPull.OneWay())
	assert.True(t, config.PubSub.OneWay())
	assert.False(t, config.ReqRep.OneWay())
	assert.Len(t, config.Patterns(), 5)
	assert.Contains(t, config.Transports(), "zstd+tcp")
	assert.Equal(t, "brook", config.Impls()[0])
}

func FuzzParseArgs(f *testing.F) {
	for _, s := range []string{"thr", "lat --pattern reqrep", "compare --impls brook,zmq4 --rounds 2", "thr --size 64..1024x2 --rate 10 --count 5",
		"thr --role remote --endpoint tcp://127.0.0.1:1", "lat --pattern pubsub --subscribers 3 --return-endpoint tcp://127.0.0.1:9", "-h", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		c, err := config.Parse(strings.Fields(line))
		if err != nil {
			if !errors.Is(err, config.ErrHelp) {
				require.ErrorIs(t, err, config.ErrUsage)
			}
			return
		}
		require.NotEmpty(t, c.Sizes)
		require.Positive(t, c.Inflight)
		require.True(t, c.Count > 0 || c.Duration > 0)
		require.Positive(t, c.Timeout)
	})
}
