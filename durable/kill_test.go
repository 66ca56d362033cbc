package durable

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var killIters = flag.Int("durable.kills", 24, "SIGKILL iterations of TestKillUnderLoad (spread over the sync modes)")

func childCmd(t *testing.T, role, dir string, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+role, childDirEnv+"="+dir)
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = os.Stderr
	return cmd
}

// Test 1 of doc.go's failure tests: a child process appends under load from many
// producers (small segments: constant rolls, retention by consumption and
// cursor rewrites) and is SIGKILLed at a random moment, many times, in every
// sync mode. After each kill the journal reopens to a gapless run of records
// that were all really appended, every acknowledged record (Group, Always,
// Interval) is present and byte-identical, the cursor is not behind its last
// committed floor, and appends work. Run longer with -durable.kills=N.
func TestKillUnderLoad(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "journal")
	modes := []SyncMode{Group, Always, Interval(5 * time.Millisecond), None}
	seed := uint64(time.Now().UnixNano())
	t.Logf("kill timing seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	acked := map[uint64][2]int{} // offset -> producer, seq
	committed, posCommitted := uint64(0), uint64(0)
	var lastEpoch Epoch
	kills, ackedTotal := 0, 0
	for it := range *killIters {
		mode := modes[it%len(modes)]
		delay := time.Duration(rng.IntN(150)) * time.Millisecond
		lines, state := killOnce(t, dir, mode, it, delay)
		var childEpoch Epoch
		for _, ln := range lines {
			f := strings.Fields(ln)
			switch {
			case len(f) == 4 && f[0] == "epoch":
				n, _ := strconv.ParseUint(f[1], 10, 64)
				start, _ := strconv.ParseUint(f[2], 10, 64)
				end, _ := strconv.ParseUint(f[3], 10, 64)
				childEpoch = Epoch{N: n, Start: start}
				if it > 0 {
					// The parent closed the journal cleanly: the child
					// continues the parent's epoch.
					assert.Equal(t, lastEpoch, childEpoch, "iteration %d: epoch changed over a clean reopen", it)
				}
				assert.LessOrEqual(t, start, end)
			case len(f) == 2 && f[0] == "poscommit":
				c, _ := strconv.ParseUint(f[1], 10, 64)
				posCommitted = max(posCommitted, c)
			case len(f) == 4 && f[0] == "ack" && mode != None:
				off, _ := strconv.ParseUint(f[1], 10, 64)
				p, _ := strconv.Atoi(f[2])
				s, _ := strconv.Atoi(f[3])
				acked[off] = [2]int{p, s}
				ackedTotal++
			case len(f) == 2 && f[0] == "commit":
				c, _ := strconv.ParseUint(f[1], 10, 64)
				committed = max(committed, c)
			case len(f) > 0 && f[0] == "error":
				t.Fatalf("iteration %d (%v): child reported %s", it, mode, ln)
			}
		}
		t.Logf("iteration %d %v: killed after %v (%s), %d lines", it, mode, delay, state, len(lines))

		l, err := Open(dir, killOptions(mode)...)
		require.NoError(t, err, "iteration %d", it)
		kills++
		// A kill leaves no clean marker: a new epoch starts at the end,
		// and nothing below it changed since the child's epoch (a kill
		// loses no written record).
		assert.True(t, l.Recovery().NewEpoch, "iteration %d", it)
		assert.Equal(t, Epoch{N: childEpoch.N + 1, Start: l.End()}, l.Epoch(), "iteration %d", it)
		assert.Equal(t, l.End(), l.StableSince(childEpoch.N))
		want := map[uint64][]byte{}
		for off, ps := range acked {
			want[off] = genPayload(ps[0], ps[1])
		}
		verifyAfterCrashThen(t, l, want, genPayload(1<<18+it, 0))
		c, err := l.Cursor("consumer")
		require.NoError(t, err)
		assert.GreaterOrEqual(t, c.Offset(), committed, "cursor went back past a commit")
		assert.LessOrEqual(t, c.Offset(), l.End())
		assert.LessOrEqual(t, l.First(), c.Offset(), "retention deleted unconsumed records")
		lastEpoch = l.Epoch()
		require.NoError(t, l.Close())
		ps, err := OpenPositions(dir + ".positions")
		require.NoError(t, err, "iteration %d: positions", it)
		if p, ok := ps.Lookup("consumer"); ok {
			assert.GreaterOrEqual(t, p.Offset(), posCommitted, "iteration %d: position behind its last commit", it)
		} else {
			assert.Zero(t, posCommitted, "iteration %d: committed position lost", it)
		}
		require.NoError(t, ps.Close())
	}
	t.Logf("%d kills, %d acknowledged appends checked, last epoch %d, cursor %d, position %d",
		kills, ackedTotal, lastEpoch.N, committed, posCommitted)
	// The run must have exercised rolls, cursor commits and retention.
	l := openT(t, dir, killOptions(Group)...)
	defer func() { require.NoError(t, l.Close()) }()
	if *killIters >= 8 {
		assert.Positive(t, committed, "no cursor commit was ever acknowledged")
		assert.Positive(t, l.First(), "retention never deleted a segment")
	}
}

// killOnce starts an appending child, kills it delay after it is ready and
// returns its output lines.
func killOnce(t *testing.T, dir string, mode SyncMode, iter int, delay time.Duration) ([]string, string) {
	t.Helper()
	cmd := childCmd(t, "append", dir,
		fmt.Sprintf("%s=%d", childModeEnv, int64(mode)), fmt.Sprintf("%s=%d", childIterEnv, iter))
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	sc := bufio.NewScanner(out)
	var lines []string
	ready := false
	var timer *time.Timer
	for sc.Scan() {
		ln := sc.Text()
		lines = append(lines, ln)
		if !ready && ln == "ready" {
			ready = true
			timer = time.AfterFunc(delay, func() { _ = cmd.Process.Kill() })
		}
		if strings.HasPrefix(ln, "error") {
			_ = cmd.Process.Kill()
		}
	}
	if timer != nil {
		timer.Stop()
	}
	werr := cmd.Wait()
	require.True(t, ready, "child never became ready: %v %q", werr, lines)
	return lines, fmt.Sprint(werr)
}

// Test 8 of doc.go's failure tests: a second writer process gets ErrLocked.
func TestSecondWriterProcessLocked(t *testing.T) {
	dir := t.TempDir()
	l := openT(t, dir)
	out, err := childCmd(t, "lock", dir).Output()
	require.NoError(t, err)
	assert.Equal(t, "locked\n", string(out))
	_, err = Open(dir)
	assert.ErrorIs(t, err, ErrLocked, "in-process second writer")
	require.NoError(t, l.Close())
	out, err = childCmd(t, "lock", dir).Output()
	require.NoError(t, err)
	assert.Equal(t, "opened\n", string(out))
}

// Test 8 of doc.go's failure tests: a read-only opener tails a journal a writer is
// appending to, across segment rolls, seeing every record intact.
func TestReadOnlyTails(t *testing.T) {
	dir := t.TempDir()
	w := openT(t, dir, WithSegmentSize(4096))
	appendN(t, w, 0, 10)
	ro := openT(t, dir, ReadOnly(), WithPollInterval(time.Millisecond))
	const n = 400
	done := make(chan error, 1)
	go func() {
		r := ro.NewReader(0)
		defer r.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for i := range n {
			rec, err := r.Next(ctx)
			if err != nil {
				done <- err
				return
			}
			if rec.Offset != uint64(i) || string(rec.Data) != string(payloadFor(i)) {
				done <- fmt.Errorf("record %d: got offset %d %q", i, rec.Offset, rec.Data)
				return
			}
		}
		done <- nil
	}()
	appendN(t, w, 10, n-10)
	require.NoError(t, <-done)
	assert.Greater(t, len(ro.Stats().Segments), 5)
	_, err := ro.Verify(context.Background())
	require.NoError(t, err)
	require.NoError(t, ro.Close())
	require.NoError(t, w.Close())
}

// Test 8 of doc.go's failure tests across processes: a read-only opener in this process
// tails what a writer process appends.
func TestReadOnlyTailsOtherProcess(t *testing.T) {
	dir := t.TempDir()
	w := openT(t, dir, WithSegmentSize(killSegmentSize))
	appendN(t, w, 0, 10)
	require.NoError(t, w.Close())
	ro := openT(t, dir, ReadOnly(), WithPollInterval(time.Millisecond))
	defer func() { require.NoError(t, ro.Close()) }()
	cmd := childCmd(t, "write", dir)
	var out strings.Builder
	cmd.Stdout = &out
	require.NoError(t, cmd.Start())
	r := ro.NewReader(0)
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i := range 410 {
		rec, err := r.Next(ctx)
		require.NoError(t, err, "record %d", i)
		require.Equal(t, uint64(i), rec.Offset)
		require.Equal(t, payloadFor(i), rec.Data)
	}
	require.NoError(t, cmd.Wait())
	assert.Equal(t, "done\n", out.String())
	assert.Greater(t, len(ro.Stats().Segments), 10)
}
