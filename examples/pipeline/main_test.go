package main

import (
	"bytes"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// childEnv makes the test binary act as the pipeline program: the
// coordinator starts its workers by re-executing it.
const childEnv = "BROOK_PIPELINE_CHILD=1"

func TestMain(m *testing.M) {
	if os.Getenv("BROOK_PIPELINE_CHILD") == "1" {
		os.Exit(mainCode(os.Args[1:], os.Stdout, os.Stderr, spawner{}))
	}
	goleak.VerifyTestMain(m)
}

func testSpawner() spawner { return spawner{exe: os.Args[0], env: []string{childEnv}} }

// runPipeline runs the coordinator and returns its output.
func runPipeline(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	code := mainCode(args, &out, &errOut, testSpawner())
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	return out.String()
}

var (
	roundRe  = regexp.MustCompile(`(?m)^round (\d+): (?:sent|resent missing) (\d+) tasks, sink got (\d+) results \((\d+) new\), lost (\d+)$`)
	splitRe  = regexp.MustCompile(`(?m)^  lost (\d+) = (\d+) dropped by the ventilator .* \+ (-?\d+) in flight`)
	killRe   = regexp.MustCompile(`(?m)^  sink at \d+ results: SIGKILL worker (w\d)#(\d) \(pid (\d+)\); restarted as (w\d)#(\d), pid (\d+)$`)
	workerRe = regexp.MustCompile(` (w\d#\d)=(\d+)`)
)

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	require.NoError(t, err)
	return n
}

// checkAccounting checks that every round's figures add up and that the
// per-worker results add up to what the sink got.
func checkAccounting(t *testing.T, out string, n int) (lostFirst int) {
	t.Helper()
	rounds := roundRe.FindAllStringSubmatch(out, -1)
	require.NotEmpty(t, rounds, out)
	splits := splitRe.FindAllStringSubmatch(out, -1)
	newTotal, split := 0, 0
	for i, r := range rounds {
		assert.Equal(t, strconv.Itoa(i+1), r[1])
		tasks, got, fresh, lost := atoi(t, r[2]), atoi(t, r[3]), atoi(t, r[4]), atoi(t, r[5])
		if i == 0 {
			assert.Equal(t, n, tasks)
			lostFirst = lost
		}
		assert.Equal(t, tasks, fresh+lost, "round %d: every task is either back or counted lost", i+1)
		assert.GreaterOrEqual(t, got, fresh, "duplicates are results too")
		newTotal += fresh
		if lost > 0 {
			require.Greater(t, len(splits), split, out)
			s := splits[split]
			split++
			assert.Equal(t, lost, atoi(t, s[1]))
			assert.Equal(t, lost, atoi(t, s[2])+atoi(t, s[3]), "dropped + in flight = lost")
			assert.GreaterOrEqual(t, atoi(t, s[3]), 0)
		}
	}
	perWorker := 0
	for _, m := range workerRe.FindAllStringSubmatch(out, -1) {
		perWorker += atoi(t, m[2])
	}
	assert.Equal(t, newTotal, perWorker, "results per worker add up to what the sink got")
	return lostFirst
}

// Workers are SIGKILLed and restarted mid-run; what was lost is counted,
// resent, and in the end every task is done exactly once at the sink.
func TestKillAndRestartWorkers(t *testing.T) {
	for _, tr := range []string{"tcp", "ipc"} {
		t.Run(tr, func(t *testing.T) {
			out := runPipeline(t, "-transport", tr, "-workers", "3", "-n", "1500", "-kills", "2", "-rate", "3000", "-quiet", "500ms")
			assert.Equal(t, 3, strings.Count(out, " started, pid "), out)
			kills := killRe.FindAllStringSubmatch(out, -1)
			require.Len(t, kills, 2, out)
			for _, k := range kills {
				assert.Equal(t, k[1], k[4], "the same worker restarts")
				assert.Equal(t, atoi(t, k[2])+1, atoi(t, k[5]), "as its next incarnation")
				assert.NotEqual(t, k[3], k[6], "in a new process")
			}
			checkAccounting(t, out, 1500)
			assert.Regexp(t, `(?m)^result: all 1500 tasks done (in one round, nothing lost|after \d resend round\(s\); \d+ \(\d+\.\d+%\) needed a resend, \d+ duplicate results dropped)$`, out)
		})
	}
}

// Without resends the loss is only reported, and still adds up.
func TestReportOnly(t *testing.T) {
	out := runPipeline(t, "-workers", "2", "-n", "800", "-kills", "1", "-rate", "2000", "-resend", "0", "-quiet", "500ms")
	lost := checkAccounting(t, out, 800)
	if lost == 0 {
		assert.Contains(t, out, "result: all 800 tasks done in one round, nothing lost")
	} else {
		assert.Contains(t, out, "result: "+strconv.Itoa(800-lost)+" of 800 tasks done, "+strconv.Itoa(lost)+" lost for good")
	}
	assert.Len(t, roundRe.FindAllString(out, -1), 1)
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-workers", "0"}, {"-transport", "udp"}, {"-quiet", "0s"}, {"-nope"}} {
		var out, errOut bytes.Buffer
		assert.Equal(t, 2, mainCode(args, &out, &errOut, testSpawner()), args)
		assert.NotEmpty(t, errOut.String())
		assert.Empty(t, out.String())
	}
	var help bytes.Buffer
	assert.Equal(t, 0, mainCode([]string{"-h"}, &help, &help, testSpawner()))
	assert.Contains(t, help.String(), "-kills")
	var errOut bytes.Buffer
	assert.Equal(t, 1, mainCode([]string{"worker", "-from", "tcp://127.0.0.1:1"}, &errOut, &errOut, testSpawner()))
	assert.Contains(t, errOut.String(), "need -from and -to")
}
