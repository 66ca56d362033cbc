package config_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/cmd/mqbench/internal/config"
	"github.com/brookmq/brook/durable"
)

func TestParseJournalDefaults(t *testing.T) {
	c, err := config.Parse([]string{"journal"})
	require.NoError(t, err)
	assert.Equal(t, "journal", c.Command)
	require.NotNil(t, c.Journal)
	assert.Equal(t, config.JournalQueue, c.Journal.Workload)
	assert.Equal(t, durable.Group, c.Journal.Sync)
	assert.Equal(t, []int{256}, c.Sizes)
	assert.EqualValues(t, config.DefaultJournalCount, c.Count)
	assert.Equal(t, config.DefaultAppenders, c.Journal.Appenders)
	assert.Equal(t, []int{1, 10, 100}, c.Journal.Fanout)
	assert.Equal(t, "tcp", c.Transport)
	assert.Zero(t, c.Journal.Rate, "closed loop only")

	c, err = config.Parse([]string{"journal", "--workload", "replay"})
	require.NoError(t, err)
	assert.Equal(t, []int{64, 1024}, c.Sizes)
	assert.EqualValues(t, config.DefaultReplayCount, c.Count)

	c, err = config.Parse([]string{"journal", "--workload", "FANOUT", "--fanout", "2, 5", "--sync", "interval:5ms",
		"--journal", "/data", "--transport", "ipc", "--count", "77", "--hwm", "9", "--cpuprofile", "p.out", "--live-rate", "0"})
	require.NoError(t, err)
	assert.Equal(t, config.JournalFanout, c.Journal.Workload)
	assert.Equal(t, []int{2, 5}, c.Journal.Fanout)
	assert.Equal(t, durable.Interval(5*time.Millisecond), c.Journal.Sync)
	assert.Equal(t, "/data", c.Journal.Dir)
	assert.Equal(t, "ipc", c.Transport)
	assert.EqualValues(t, 77, c.Count)
	assert.Equal(t, 9, c.HWM)
	assert.Equal(t, "p.out", c.Journal.CPUProfile)
	assert.Zero(t, c.Journal.LiveRate)
}

func TestParseJournalErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--workload", "stream"}, `unknown --workload "stream"`},
		{[]string{"--sync", "sometimes"}, `--sync "sometimes": want group, always, none or interval:D`},
		{[]string{"--sync", "interval:1us"}, "at least 1ms"},
		{[]string{"--sync", "group:1s"}, "--sync"},
		{[]string{"--transport", "quic"}, "tcp, ipc or inproc"},
		{[]string{"--size", "8"}, "below 16 bytes"},
		{[]string{"--count", "-1"}, "--count -1"},
		{[]string{"--appenders", "0"}, "--appenders 0"},
		{[]string{"--live-rate", "-5"}, "--live-rate -5"},
		{[]string{"--rate", "-1"}, "--rate -1"},
		{[]string{"--fanout", "1,0"}, "--fanout"},
		{[]string{"--fanout", "x"}, "--fanout"},
		{[]string{"--hwm", "-1"}, "--hwm -1"},
		{[]string{"--timeout", "0s"}, "--timeout"},
		{[]string{"--pattern", "pubsub"}, "flag provided but not defined"},
		{[]string{"stray"}, `unexpected argument "stray"`},
	} {
		_, err := config.Parse(append([]string{"journal"}, tc.args...))
		require.Error(t, err, tc.args)
		assert.ErrorIs(t, err, config.ErrUsage, tc.args)
		assert.Contains(t, err.Error(), tc.want, tc.args)
	}
	_, err := config.Parse([]string{"journal", "-h"})
	assert.ErrorIs(t, err, config.ErrJournalHelp)
	assert.ErrorIs(t, err, config.ErrHelp)
	assert.False(t, errors.Is(config.ErrHelp, config.ErrJournalHelp), "plain -h is not journal's")
}

func TestParseSync(t *testing.T) {
	for in, want := range map[string]durable.SyncMode{
		"group": durable.Group, "Always": durable.Always, "none": durable.None,
		"interval:10ms": durable.Interval(10 * time.Millisecond), " interval:1s ": durable.Interval(time.Second),
	} {
		got, err := config.ParseSync(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "interval", "interval:", "interval:-1s", "none:1s", "fsync"} {
		_, err := config.ParseSync(bad)
		assert.ErrorIs(t, err, config.ErrUsage, bad)
	}
}
