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

// childEnv makes the test binary act as the durablequeue program: the
// coordinator starts the producer and the workers by re-executing it.
const childEnv = "BROOK_DURABLEQUEUE_CHILD=1"

func TestMain(m *testing.M) {
	if os.Getenv("BROOK_DURABLEQUEUE_CHILD") == "1" {
		os.Exit(mainCode(os.Args[1:], os.Stdout, os.Stderr, childproc.Spawner{}))
	}
	goleak.VerifyTestMain(m)
}

func testSpawner() childproc.Spawner {
	return childproc.Spawner{Exe: os.Args[0], Env: []string{childEnv}}
}

// runQueue runs the coordinator and returns its output; it must succeed.
func runQueue(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	// A small segment: a producer restarted after SIGKILL reads its active
	// segment to its preallocated end, which the race detector makes slow.
	code := mainCode(append(args, "-timeout", "2m", "-segment", "1048576"), &out, &errOut, testSpawner())
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	return out.String()
}

var (
	producerKillRe = regexp.MustCompile(`(?m)^  at (\d+) sent: SIGKILL producer#(\d+) \(pid \d+\); producer#(\d+) pid \d+ reopened the journal [0-9a-f]{32} epoch (\d+) floor \d+ end (\d+), sends the other (\d+)$`)
	workerKillRe   = regexp.MustCompile(`(?m)^  at \d+ processed: SIGKILL worker (w\d+)#(\d+) \(pid (\d+)\); restarted as (w\d+)#(\d+), pid (\d+), on the same dedup store$`)
	sentRe         = regexp.MustCompile(`(?m)^sent: +(\d+) messages whose Send succeeded \(durable\), by (\d+) producer processes; (\d+) more were journaled by killed producers before their Send returned$`)
	receivedRe     = regexp.MustCompile(`(?m)^received: +all (\d+) processed by a worker, none lost; with the (\d+) journaled by killed producers, (\d+) distinct messages$`)
	journalRe      = regexp.MustCompile(`(?m)^journal: +reopened after the producer's exit: cursor brook.queue at (\d+), journal end (\d+)$`)
	deliveriesRe   = regexp.MustCompile(`(?m)^deliveries: (\d+) to the application, of (\d+) distinct messages: (\d+) processed more than once\n  (\d+) again at a worker that had acknowledged it .*\n  (\d+) at another worker .*\n  (\d+) after the worker processing it was killed .*$`)
)

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	require.NoError(t, err)
	return n
}

// checkAccount checks the final account of a run of n messages: nothing
// lost, the journal fully acknowledged on disk, the duplicates adding up
// by cause, none at the worker that acknowledged a message.
func checkAccount(t *testing.T, out string, n int) (duplicates int) {
	t.Helper()
	sent := sentRe.FindStringSubmatch(out)
	require.NotNil(t, sent, out)
	assert.Equal(t, n, atoi(t, sent[1]))
	extra := atoi(t, sent[3])

	recv := receivedRe.FindStringSubmatch(out)
	require.NotNil(t, recv, "nothing lost:\n%s", out)
	assert.Equal(t, n, atoi(t, recv[1]))
	assert.Equal(t, extra, atoi(t, recv[2]), "what killed producers journaled was delivered too")
	assert.Equal(t, n+extra, atoi(t, recv[3]))

	j := journalRe.FindStringSubmatch(out)
	require.NotNil(t, j, out)
	assert.Equal(t, j[1], j[2], "every journaled message acknowledged, as the cursor on disk says")
	assert.Equal(t, n+extra, atoi(t, j[2]), "one journal record per message")

	d := deliveriesRe.FindStringSubmatch(out)
	require.NotNil(t, d, out)
	total, distinct, again := atoi(t, d[1]), atoi(t, d[2]), atoi(t, d[3])
	same, other, beforeAck := atoi(t, d[4]), atoi(t, d[5]), atoi(t, d[6])
	assert.Equal(t, n+extra, distinct)
	assert.Equal(t, total-distinct, again)
	assert.Equal(t, again, same+other+beforeAck, "every repeated delivery has one cause")
	assert.Zero(t, same, "a worker's dedup store never lets a message it acknowledged through again")
	assert.Regexp(t, `(?m)^result: OK: every one of the `+strconv.Itoa(n)+` messages whose Send succeeded was processed and acknowledged`, out)
	return again
}

// The producer and the workers are SIGKILLed at random points and
// restarted; every message whose send succeeded is processed and
// acknowledged in the end.
func TestKillsLoseNothing(t *testing.T) {
	const n = 1200
	out := runQueue(t, "-n", strconv.Itoa(n), "-workers", "2", "-producer-kills", "2", "-worker-kills", "2", "-rate", "2000", "-inflight", "50")
	pk := producerKillRe.FindAllStringSubmatch(out, -1)
	require.Len(t, pk, 2, out)
	confirmedBefore := 0
	for i, k := range pk {
		assert.Equal(t, i+1, atoi(t, k[2]), "the producers die in order")
		assert.Equal(t, i+2, atoi(t, k[3]), "and their successors take over")
		assert.Greater(t, atoi(t, k[4]), i+1, "a journal reopened after SIGKILL starts a new epoch")
		assert.GreaterOrEqual(t, atoi(t, k[5]), atoi(t, k[1]), "what was confirmed is in the journal")
		left := atoi(t, k[6])
		assert.LessOrEqual(t, left, n-atoi(t, k[1]))
		assert.Greater(t, left, 0)
		assert.Greater(t, atoi(t, k[1]), confirmedBefore)
		confirmedBefore = atoi(t, k[1])
	}
	wk := workerKillRe.FindAllStringSubmatch(out, -1)
	require.Len(t, wk, 2, out)
	for _, k := range wk {
		assert.Equal(t, k[1], k[4], "the same worker slot restarts")
		assert.Equal(t, atoi(t, k[2])+1, atoi(t, k[5]), "as its next incarnation")
		assert.NotEqual(t, k[3], k[6], "in a new process")
	}
	checkAccount(t, out, n)
}

// Without kills every message is processed exactly once.
func TestNoKillsExactlyOnce(t *testing.T) {
	out := runQueue(t, "-n", "1000", "-workers", "3", "-producer-kills", "0", "-worker-kills", "0", "-rate", "0")
	assert.NotContains(t, out, ": SIGKILL")
	assert.Zero(t, checkAccount(t, out, 1000))
	assert.Contains(t, out, "sent:       1000 messages whose Send succeeded (durable), by 1 producer processes; 0 more")
	assert.Regexp(t, `(?m)^dedup stores: 0 deliveries .* by the 3 worker processes that exited cleanly\)$`, out)
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-n", "0"}, {"-workers", "0"}, {"-inflight", "0"}, {"-producer-kills", "-1"}, {"-producer-kills", "5", "-n", "5"},
		{"-timeout", "0s"}, {"-nope"}, {"extra"},
	} {
		var out, errOut bytes.Buffer
		assert.Equal(t, 2, mainCode(args, &out, &errOut, testSpawner()), args)
		assert.NotEmpty(t, errOut.String(), args)
		assert.Empty(t, out.String(), args)
	}
	var help bytes.Buffer
	assert.Equal(t, 0, mainCode([]string{"-h"}, &help, &help, testSpawner()))
	assert.Contains(t, help.String(), "-producer-kills")
	for _, role := range [][]string{{"producer", "-n", "3"}, {"worker", "-endpoint", "tcp://127.0.0.1:1"}} {
		var out, errOut bytes.Buffer
		assert.Equal(t, 1, mainCode(role, &out, &errOut, testSpawner()), role)
		assert.Contains(t, errOut.String(), "durablequeue "+role[0]+": need -")
	}
}
