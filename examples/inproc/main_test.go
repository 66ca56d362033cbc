package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The example checks every message arrived in order with the right
// value; here we check the report's shape (never its timings).
func TestReport(t *testing.T) {
	for _, tr := range []string{"inproc", "ipc", "tcp"} {
		t.Run(tr, func(t *testing.T) {
			var out bytes.Buffer
			require.NoError(t, run(&out, config{n: 3000, stages: 3, size: 32, queue: 100, rounds: 2, transport: tr}))
			lines := strings.Split(out.String(), "\n")
			require.GreaterOrEqual(t, len(lines), 6, out.String())
			assert.Equal(t, "pipeline: source -> 3 stages -> sink, 3000 messages of 32 B, queues of 100, median of 2 rounds", lines[0])
			num := `[0-9.]+`
			assert.Regexp(t, regexp.MustCompile(`^  Go channels +\S+  +`+num+` msgs/s +`+num+` µs/msg$`), lines[1])
			assert.Regexp(t, regexp.MustCompile(`^  brook `+tr+`:// +\S+  +`+num+` msgs/s +`+num+` µs/msg$`), lines[2])
			assert.Regexp(t, regexp.MustCompile(`^ratio: `+tr+`:// takes `+num+`x the time of channels$`), lines[3])
			assert.Regexp(t, `^both delivered all 3000 messages in order, same checksum 0x[0-9a-f]+$`, lines[4])
			assert.Contains(t, out.String(), "when to use which:")
			assert.Contains(t, out.String(), "Go channels    stages that stay in one process")
		})
	}
}

func TestBadArguments(t *testing.T) {
	var out bytes.Buffer
	assert.Error(t, run(&out, config{n: 0, stages: 1, size: 16, queue: 1, rounds: 1, transport: "inproc"}))
	assert.Error(t, run(&out, config{n: 1, stages: 1, size: 8, queue: 1, rounds: 1, transport: "inproc"}))
	assert.ErrorContains(t, run(&out, config{n: 1, stages: 1, size: 16, queue: 1, rounds: 1, transport: "udp"}), "unknown -transport")
	assert.Empty(t, out.String())
}

// The checksum depends on every stage's work on every message, so a
// pipeline that skipped or repeated a step would not match.
func TestChecksumDependsOnEveryStep(t *testing.T) {
	c := config{n: 10, stages: 2, size: 16}
	base := expected(c)
	c.stages = 3
	assert.NotEqual(t, base, expected(c))
	c.stages, c.n = 2, 11
	assert.NotEqual(t, base, expected(c))
	b := newMsg(3, 16)
	_, err := sinkCheck(b, 4, 0)
	assert.ErrorContains(t, err, "message 3 arrived where 4 was due")
}
