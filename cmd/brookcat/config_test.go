package main

import (
	"errors"
	"flag"
	"testing"
	"time"

	"github.com/brookmq/brook/socket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseArgs(t *testing.T) {
	c, err := parseArgs([]string{"-n", "5", "-timeout", "2s", "-s", "a", "-s", "b", "-out", "json", "sub", "@tcp://127.0.0.1:5555", ">ipc:///tmp/x", "tcp://h:1"})
	require.NoError(t, err)
	assert.Equal(t, socket.Sub, c.typ)
	assert.Equal(t, 5, c.count)
	assert.Equal(t, 2*time.Second, c.timeout)
	assert.Equal(t, []string{"a", "b"}, c.subs)
	assert.Equal(t, "json", c.out)
	assert.Equal(t, "\t", c.delim)
	assert.Equal(t, []endpointArg{{true, "tcp://127.0.0.1:5555"}, {false, "ipc:///tmp/x"}, {false, "tcp://h:1"}}, c.endpoints)

	c, err = parseArgs([]string{"-bind", "PUSH", "tcp://*:1", ">tcp://h:2"})
	require.NoError(t, err)
	assert.Equal(t, []endpointArg{{true, "tcp://*:1"}, {false, "tcp://h:2"}}, c.endpoints, "-bind only for endpoints without a prefix")

	for _, typ := range types() {
		c, err := parseArgs([]string{typ.String(), "inproc://x"})
		require.NoError(t, err, typ)
		assert.Equal(t, typ, c.typ)
	}

	_, err = parseArgs([]string{"-h"})
	assert.ErrorIs(t, err, flag.ErrHelp)
}

func TestParseArgsErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no args", nil, "need a socket type"},
		{"no endpoint", []string{"PUSH"}, "need a socket type and at least one endpoint"},
		{"bad type", []string{"STREAM", "tcp://h:1"}, `unknown socket type "STREAM"`},
		{"bad endpoint", []string{"PUSH", "localhost:1"}, "is not an endpoint"},
		{"bad format", []string{"-in", "xml", "PUSH", "tcp://h:1"}, `unknown format "xml"`},
		{"negative count", []string{"-n", "-1", "PULL", "tcp://h:1"}, "-n must not be negative"},
		{"negative timeout", []string{"-timeout", "-1s", "PULL", "tcp://h:1"}, "-timeout"},
		{"subscribe on PUB", []string{"-s", "x", "PUB", "tcp://h:1"}, "-s is for SUB and XSUB"},
		{"echo on REQ", []string{"-echo", "REQ", "tcp://h:1"}, "-echo is for REP"},
		{"-r and -w", []string{"-r", "-w", "DEALER", "tcp://h:1"}, "exclude each other"},
		{"-r on PUSH", []string{"-r", "PUSH", "tcp://h:1"}, "-r and -w are for types"},
		{"-wait-peers on PULL", []string{"-wait-peers", "1", "PULL", "tcp://h:1"}, "-wait-peers is for sockets that send"},
		{"-wait-peers on XPUB -w", []string{"-wait-peers", "1", "-w", "XPUB", "tcp://h:1"}, "not with -w"},
		{"raw REQ", []string{"-in", "raw", "REQ", "tcp://h:1"}, "-in raw"},
		{"unknown flag", []string{"-x", "PUSH", "tcp://h:1"}, "flag provided but not defined"},
		{"zero max size", []string{"-max-size", "0", "PUSH", "tcp://h:1"}, "-max-size"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseArgs(tc.args)
			require.Error(t, err)
			assert.True(t, errors.Is(err, errUsage), "%v", err)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}
