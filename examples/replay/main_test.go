package main

import (
	"bytes"
	"os"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/brookmq/brook/examples/internal/childproc"
)

// childEnv makes the test binary act as the replay program: the
// coordinator starts the publisher and the subscribers by re-executing it.
const childEnv = "BROOK_REPLAY_CHILD=1"

func TestMain(m *testing.M) {
	if os.Getenv("BROOK_REPLAY_CHILD") == "1" {
		os.Exit(mainCode(os.Args[1:], os.Stdout, os.Stderr, childproc.Spawner{}))
	}
	goleak.VerifyTestMain(m)
}

func testSpawner() childproc.Spawner {
	return childproc.Spawner{Exe: os.Args[0], Env: []string{childEnv}}
}

// runReplay runs the coordinator and returns its output; it must succeed.
func runReplay(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	// A small segment: a publisher restarted after SIGKILL reads its active
	// segment to its preallocated end, which the race detector makes slow.
	code := mainCode(append(args, "-timeout", "2m", "-segment", "1048576"), &out, &errOut, testSpawner())
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	return out.String()
}

var (
	subKillRe  = regexp.MustCompile(`(?m)^  at tick (\d+): SIGKILL subscriber#(\d+) \(pid (\d+)\), its last committed position (\d+); restarted as subscriber#(\d+), pid (\d+)$`)
	resumedRe  = regexp.MustCompile(`(?m)^  subscriber#(\d+) resumed at tick (\d+): no gap \(read up to (\d+) before\), its committed position was (\d+), (\d+) ticks to read again \(processed after that commit\)$`)
	pubKillRe  = regexp.MustCompile(`(?m)^  at tick \d+: SIGKILL publisher#(\d+) \(pid \d+\); publisher#(\d+) pid \d+ reopened the journal [0-9a-f]{32} epoch (\d+) end (\d+); the subscriber reconnects by itself$`)
	fromTimeRe = regexp.MustCompile(`(?m)^from a time: a new subscriber \(no stored position\) started at \S+: first tick (\d+), as it should \(tick (\d+) was published at \S+, tick (\d+) at \S+\); then (\d+) ticks in order$`)
	streamRe   = regexp.MustCompile(`(?m)^stream: ticks 0\.\.(\d+) all read by the subscriber's (\d+) processes, each in order without a gap; (\d+) reads for (\d+) ticks: (\d+) read again after restarts`)
)

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	require.NoError(t, err)
	return n
}

// The subscriber is SIGKILLed and restarted at random points, the
// publisher too; every restart resumes at the committed position, with
// no gap, and a subscriber started from a time begins at the first tick
// published at or after it.
func TestResumeWithoutGap(t *testing.T) {
	const n, commitEvery = 3000, 50
	out := runReplay(t, "-n", strconv.Itoa(n), "-kills", "2", "-publisher-kills", "1", "-commit-every", strconv.Itoa(commitEvery), "-rate", "3000")

	kills := subKillRe.FindAllStringSubmatch(out, -1)
	require.Len(t, kills, 2, out)
	resumes := resumedRe.FindAllStringSubmatch(out, -1)
	require.Len(t, resumes, 2, out)
	again := 0
	for i, k := range kills {
		assert.Equal(t, atoi(t, k[2])+1, atoi(t, k[5]), "the next process")
		assert.NotEqual(t, k[3], k[6])
		r := resumes[i]
		assert.Equal(t, k[5], r[1], "the restarted subscriber reports where it resumed")
		at, upTo, committed := atoi(t, r[2]), atoi(t, r[3]), atoi(t, r[4])
		assert.LessOrEqual(t, at, upTo+1, "no gap")
		// It resumes at its last committed position (commits happen only
		// where it says), or one commit later if it was killed between
		// committing and printing so.
		assert.Contains(t, []int{committed, committed + commitEvery}, at)
		assert.Zero(t, committed%commitEvery, "positions are committed every %d ticks", commitEvery)
		assert.Equal(t, upTo+1-at, atoi(t, r[5]))
		again += atoi(t, r[5])
	}
	pk := pubKillRe.FindStringSubmatch(out)
	require.NotNil(t, pk, out)
	assert.Equal(t, "1", pk[1])
	assert.Equal(t, "2", pk[2])
	assert.Equal(t, "2", pk[3], "a journal reopened after SIGKILL starts a new epoch")

	ft := fromTimeRe.FindStringSubmatch(out)
	require.NotNil(t, ft, out)
	assert.Equal(t, atoi(t, ft[1]), atoi(t, ft[3]))
	assert.Equal(t, atoi(t, ft[1])-1, atoi(t, ft[2]))
	assert.Positive(t, atoi(t, ft[4]))

	st := streamRe.FindStringSubmatch(out)
	require.NotNil(t, st, out)
	last, procs, reads, ticks := atoi(t, st[1]), atoi(t, st[2]), atoi(t, st[3]), atoi(t, st[4])
	assert.GreaterOrEqual(t, last+1, n)
	assert.Equal(t, 3, procs)
	assert.Equal(t, last+1, ticks)
	assert.Equal(t, again, atoi(t, st[5]))
	assert.Equal(t, ticks+again, reads, "every tick read once, plus the ones read again after each restart")
	assert.Regexp(t, `(?m)^  subscriber#3 closed cleanly at position \d+ \(committed on Close\)$`, out)
	assert.Regexp(t, `(?m)^result: OK: across 2 subscriber and 1 publisher SIGKILLs`, out)
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-n", "5"}, {"-kills", "-1"}, {"-commit-every", "0"}, {"-rate", "0"}, {"-segment", "10"}, {"-nope"}, {"extra"},
	} {
		var out, errOut bytes.Buffer
		assert.Equal(t, 2, mainCode(args, &out, &errOut, testSpawner()), args)
		assert.NotEmpty(t, errOut.String(), args)
		assert.Empty(t, out.String(), args)
	}
	var help bytes.Buffer
	assert.Equal(t, 0, mainCode([]string{"-h"}, &help, &help, testSpawner()))
	assert.Contains(t, help.String(), "-commit-every")
	for _, role := range [][]string{{"publisher", "-rate", "10"}, {"subscriber", "-start", "oldest"}, {"subscriber", "-endpoint", "tcp://127.0.0.1:1", "-start", "yesterday"}} {
		var out, errOut bytes.Buffer
		assert.Equal(t, 1, mainCode(role, &out, &errOut, testSpawner()), role)
		assert.Contains(t, errOut.String(), "replay "+role[0]+": ", role)
	}
}
