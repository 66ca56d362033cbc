package socket_test

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/durable"
	"github.com/brookmq/brook/socket"
)

// The kill tests run journaled sockets in child processes (this test
// binary re-executed with childRoleEnv set) and SIGKILL them at random.
// Each child logs what it did to a file, one line per event, written
// straight to the file so a kill loses nothing it logged:
//
//	sender:     "C <offset>"      every offset below it is durable (Send succeeded)
//	            "F <offset>"      every offset below it is acknowledged (the cursor's floor)
//	receiver:   "P <offset> <ns>" processed (before acknowledging)
//	            "A <offset> <ns>" AckSync returned: the sender has it durably
//	subscriber: "P <offset>"      received in order
//	            "S <offset>"      the position stored: next offset to read
//
// -kills sets the number of kills per test (run 200 and more locally).
var kills = flag.Int("kills", 12, "SIGKILLs per journal kill test")

const (
	childRoleEnv = "BROOK_SOCKET_CHILD"
	childDirEnv  = "BROOK_SOCKET_DIR"
	childEPEnv   = "BROOK_SOCKET_EP"
	childNEnv    = "BROOK_SOCKET_N"
	childLogEnv  = "BROOK_SOCKET_LOG"
)

// runChild runs a child role until killed (or done) and returns its exit
// code.
func runChild(role string) int {
	logf, err := os.OpenFile(os.Getenv(childLogEnv), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	n, _ := strconv.ParseUint(os.Getenv(childNEnv), 10, 64)
	ep, dir := os.Getenv(childEPEnv), os.Getenv(childDirEnv)
	switch role {
	case "sender":
		err = queueSender(logf, dir, ep, n)
	case "receiver":
		err = queueReceiver(logf, dir, ep)
	case "publisher":
		err = streamPublisher(logf, dir, ep, n)
	case "subscriber":
		err = streamSubscriber(logf, dir, ep)
	case "holder":
		err = queueHolder(logf, ep)
	case "batcher":
		err = batchPublisher(logf, dir, n)
	default:
		err = fmt.Errorf("unknown role %q", role)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, role, err)
		return 1
	}
	return 0
}

// logLine writes one event line in one write(2).
func logLine(f *os.File, format string, args ...any) {
	if _, err := f.WriteString(fmt.Sprintf(format, args...) + "\n"); err != nil {
		panic(err)
	}
}

// queueSender journals messages up to n in all (across restarts), each
// carrying its offset, in batches, logging the durable end after each.
func queueSender(logf *os.File, dir, ep string, n uint64) error {
	log, err := durable.Open(dir, durable.WithSegmentSize(64<<10))
	if err != nil {
		return err
	}
	defer log.Close()
	push, err := socket.New(socket.Push, socket.WithJournal(log), socket.WithSendHWM(50),
		socket.WithAckTimeout(2*time.Second), socket.WithLinger(0))
	if err != nil {
		return err
	}
	defer push.Close()
	if err := push.Bind(ep); err != nil {
		return err
	}
	ctx := context.Background()
	next := log.End()
	logLine(logf, "R %d %d", next, time.Now().UnixNano())
	logLine(logf, "C %d", next)
	for next < n {
		var last socket.Pending
		for i := 0; i < 50 && next < n; i++ {
			p, err := push.SendAsync(ctx, msgOf(strconv.FormatUint(next, 10)))
			if err != nil {
				return err
			}
			if p.ID().Offset != next {
				return fmt.Errorf("message %d got offset %d", next, p.ID().Offset)
			}
			last, next = p, next+1
		}
		if err := last.Wait(ctx); err != nil {
			return err
		}
		logLine(logf, "C %d", next)
		time.Sleep(25 * time.Millisecond) // sending goes on while the kills happen
	}
	// Serve redeliveries until killed, telling how far acknowledgements
	// have come.
	for {
		logLine(logf, "F %d", push.Stats().Journal.Floor)
		time.Sleep(20 * time.Millisecond)
	}
}

// queueReceiver processes messages and acknowledges each with AckSync,
// logging both, forever.
func queueReceiver(logf *os.File, dir, ep string) error {
	pull, err := socket.New(socket.Pull, socket.WithDedupStore(dir), socket.WithRecvHWM(20),
		socket.WithReconnectInterval(20*time.Millisecond))
	if err != nil {
		return err
	}
	defer pull.Close()
	if err := pull.Connect(ep); err != nil {
		return err
	}
	ctx := context.Background()
	for {
		d, err := pull.RecvDelivery(ctx)
		if err != nil {
			return err
		}
		if body := string(d.Msg.Frames[0]); body != strconv.FormatUint(d.ID.Offset, 10) {
			return fmt.Errorf("message %q at offset %d", body, d.ID.Offset)
		}
		logLine(logf, "P %d %d %d %d", d.ID.Offset, time.Now().UnixNano(), d.Count, d.ID.Epoch)
		if err := d.AckSync(ctx); err != nil {
			return err
		}
		logLine(logf, "A %d %d", d.ID.Offset, time.Now().UnixNano())
	}
}

// queueHolder receives messages and holds them, never acknowledging,
// logging each ("P <offset>"), until stopped or killed.
func queueHolder(logf *os.File, ep string) error {
	pull, err := socket.New(socket.Pull, socket.WithHeartbeat(100*time.Millisecond, 400*time.Millisecond, 0))
	if err != nil {
		return err
	}
	defer pull.Close()
	if err := pull.Connect(ep); err != nil {
		return err
	}
	for {
		d, err := pull.RecvDelivery(context.Background())
		if err != nil {
			return err
		}
		logLine(logf, "P %d", d.ID.Offset) // held: never settled
	}
}

// startAll starts the children and kills whichever still run when the
// test ends.
func startAll(t *testing.T, all []*child) {
	t.Helper()
	for _, c := range all {
		c.start(t)
	}
	t.Cleanup(func() {
		for _, c := range all {
			if c.cmd != nil {
				c.kill(t)
			}
		}
	})
}

// killLoop runs -kills rounds: after a random 50-300 ms of traffic it
// SIGKILLs the children pick chooses, and restarts them up to 100 ms
// later.
func killLoop(t *testing.T, seed uint64, pick func(*rand.Rand) []*child) {
	t.Helper()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), seed))
	for k := 0; k < *kills; k++ {
		time.Sleep(time.Duration(50+rng.IntN(250)) * time.Millisecond)
		victims := pick(rng)
		for _, v := range victims {
			v.kill(t)
		}
		time.Sleep(time.Duration(rng.IntN(100)) * time.Millisecond)
		for _, v := range victims {
			v.start(t)
		}
	}
}

// child is a running child process.
type child struct {
	role, dir, ep, log string
	n                  uint64
	cmd                *exec.Cmd
}

func (c *child) start(t *testing.T) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childRoleEnv+"="+c.role, childDirEnv+"="+c.dir, childEPEnv+"="+c.ep,
		childNEnv+"="+strconv.FormatUint(c.n, 10), childLogEnv+"="+c.log)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	c.cmd = cmd
}

func (c *child) kill(t *testing.T) {
	t.Helper()
	if c.cmd == nil {
		return
	}
	require.NoError(t, c.cmd.Process.Signal(syscall.SIGKILL))
	err := c.cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("%s ended on its own before the kill: %v", c.role, err)
	}
	c.cmd = nil
}

// events reads a child's log: the lines of kind k as offsets, with their
// times (0 when the line has none).
func events(t *testing.T, path string, k string) (offs []uint64, times []int64) {
	t.Helper()
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || fields[0] != k {
			continue // a line cut by a kill has no newline and fails here too
		}
		off, err := strconv.ParseUint(fields[1], 10, 64)
		require.NoError(t, err)
		var ts int64
		if len(fields) > 2 {
			ts, _ = strconv.ParseInt(fields[2], 10, 64)
		}
		offs, times = append(offs, off), append(times, ts)
	}
	return offs, times
}

// TestJournalQueueSurvivesKills: a journaled PUSH and two PULLs with dedup
// stores and AckSync after processing, SIGKILLed at random (the sender,
// a receiver, or both at once) while messages flow. At the end every
// message whose Send succeeded was processed and acknowledged, and no
// message was passed to an application after its acknowledgement had
// returned anywhere (0 duplicates after acknowledgement).
func TestJournalQueueSurvivesKills(t *testing.T) {
	if testing.Short() {
		t.Skip("kill loop")
	}
	root := t.TempDir()
	if keep := os.Getenv("BROOK_KEEP_LOGS"); keep != "" {
		root = keep
	}
	ep := "tcp://127.0.0.1:" + freePort(t)
	n := uint64(2000 + 100**kills)
	sender := &child{role: "sender", dir: filepath.Join(root, "journal"), ep: ep, n: n, log: filepath.Join(root, "sender.log")}
	receivers := []*child{
		{role: "receiver", dir: filepath.Join(root, "dedup0"), ep: ep, log: filepath.Join(root, "r0.log")},
		{role: "receiver", dir: filepath.Join(root, "dedup1"), ep: ep, log: filepath.Join(root, "r1.log")},
	}
	all := append([]*child{sender}, receivers...)
	startAll(t, all)
	killLoop(t, 7, func(rng *rand.Rand) []*child {
		switch r := rng.IntN(10); {
		case r < 3:
			return []*child{sender}
		case r < 8:
			return []*child{receivers[rng.IntN(2)]}
		default:
			return []*child{sender, receivers[rng.IntN(2)]}
		}
	})
	// Let it finish: every message sent and acknowledged at the sender.
	deadline := time.Now().Add(90*time.Second + time.Duration(n)*time.Millisecond)
	for {
		confirmed, _ := events(t, sender.log, "C")
		floors, _ := events(t, sender.log, "F")
		if len(confirmed) > 0 && confirmed[len(confirmed)-1] == n && len(floors) > 0 && floors[len(floors)-1] == n {
			break
		}
		require.True(t, time.Now().Before(deadline), "stuck: confirmed %v, floors %v", confirmed[max(0, len(confirmed)-1):], floors[max(0, len(floors)-1):])
		time.Sleep(50 * time.Millisecond)
	}
	for _, c := range all {
		c.kill(t)
	}
	// Every message was processed (some were acknowledged by a receiver's
	// dedup store answering a redelivery, after a kill cut their AckSync).
	processed := map[uint64]bool{}
	for _, r := range receivers {
		offs, _ := events(t, r.log, "P")
		for _, o := range offs {
			processed[o] = true
		}
	}
	for o := uint64(0); o < n; o++ {
		require.True(t, processed[o], "offset %d acknowledged but never processed", o)
	}

	// No message processed after an acknowledgement of it returned.
	ackedAt := map[uint64]int64{}
	type proc struct {
		off uint64
		at  int64
	}
	var procs []proc
	for _, r := range receivers {
		offs, times := events(t, r.log, "A")
		for i, o := range offs {
			if at, ok := ackedAt[o]; !ok || times[i] < at {
				ackedAt[o] = times[i]
			}
		}
		offs, times = events(t, r.log, "P")
		for i, o := range offs {
			procs = append(procs, proc{o, times[i]})
		}
	}
	// A message id names one message: every delivery of an offset carries
	// the epoch it was written in, however many sender restarts (each a
	// new epoch) came between.
	epochs := map[string]string{}
	restarts, _ := events(t, sender.log, "R")
	for _, r := range receivers {
		b, err := os.ReadFile(r.log)
		require.NoError(t, err)
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) != 5 || f[0] != "P" {
				continue
			}
			if e, ok := epochs[f[1]]; ok {
				require.Equal(t, e, f[4], "offset %s delivered under two epochs", f[1])
			}
			epochs[f[1]] = f[4]
		}
	}
	distinct := map[string]bool{}
	for _, e := range epochs {
		distinct[e] = true
	}
	if len(restarts) > 2 {
		assert.Greater(t, len(distinct), 1, "a sender killed and restarted writes in a new epoch")
	}
	t.Logf("the sender ran %d times; messages were written in %d epochs, and every delivery kept its message's", len(restarts), len(distinct))
	again, afterAck := 0, 0
	seen := map[uint64]bool{}
	for _, p := range procs {
		if seen[p.off] {
			again++ // processed again: allowed only while unacknowledged
		}
		seen[p.off] = true
		if at, ok := ackedAt[p.off]; ok && p.at > at {
			afterAck++
			t.Logf("offset %d processed %v after its acknowledgement returned", p.off, time.Duration(p.at-at))
		}
	}
	assert.Zero(t, afterAck, "messages passed to an application after their acknowledgement returned")
	t.Logf("%d kills: %d messages, all processed and acknowledged; %d processed again before any acknowledgement of them returned (the at-least-once window), %d after", *kills, n, again, afterAck)
}

// streamPublisher publishes offsets up to n, logging the durable end.
func streamPublisher(logf *os.File, dir, ep string, n uint64) error {
	log, err := durable.Open(dir, durable.WithSegmentSize(64<<10))
	if err != nil {
		return err
	}
	defer log.Close()
	pub, err := socket.New(socket.Pub, socket.WithJournal(log), socket.WithLinger(0))
	if err != nil {
		return err
	}
	defer pub.Close()
	if err := pub.Bind(ep); err != nil {
		return err
	}
	ctx := context.Background()
	next := log.End()
	for next < n {
		var last socket.Pending
		for i := 0; i < 20 && next < n; i++ {
			p, err := pub.SendAsync(ctx, msgOf(strconv.FormatUint(next, 10)))
			if err != nil {
				return err
			}
			last, next = p, next+1
		}
		if err := last.Wait(ctx); err != nil {
			return err
		}
		logLine(logf, "C %d", next)
		time.Sleep(15 * time.Millisecond) // a ticker: publishing goes on while the kills happen
	}
	select {}
}

// streamSubscriber reads the stream from its stored position on, checks
// it is in order, and commits its position every 50 messages.
func streamSubscriber(logf *os.File, dir, ep string) error {
	sub, err := socket.New(socket.Sub, socket.WithPositionStore(dir, time.Hour), socket.WithStart(socket.StartOldest()),
		socket.WithReconnectInterval(20*time.Millisecond))
	if err != nil {
		return err
	}
	defer sub.Close()
	if err := sub.Subscribe(nil); err != nil {
		return err
	}
	if err := sub.Connect(ep); err != nil {
		return err
	}
	logLine(logf, "R")
	ctx := context.Background()
	for i := 1; ; i++ {
		d, err := sub.RecvDelivery(ctx)
		if err != nil {
			return err
		}
		logLine(logf, "P %d", d.ID.Offset)
		if err := d.Ack(); err != nil {
			return err
		}
		if i%50 == 0 {
			if err := sub.CommitPositions(); err != nil {
				return err
			}
			logLine(logf, "S %d", d.ID.Offset+1)
		}
	}
}

// TestJournalStreamSurvivesKills: a journaled PUB and two resuming SUBs
// with position stores, SIGKILLed at random. Within a run a subscriber
// sees offsets in order with no gap; after each restart it resumes at its
// last stored position (never after it: no gap), replaying at most what
// it had processed since (the at-least-once window, measured).
func TestJournalStreamSurvivesKills(t *testing.T) {
	if testing.Short() {
		t.Skip("kill loop")
	}
	root := t.TempDir()
	if keep := os.Getenv("BROOK_KEEP_LOGS"); keep != "" {
		root = keep
	}
	ep := "tcp://127.0.0.1:" + freePort(t)
	n := uint64(2000 + 250**kills)
	pub := &child{role: "publisher", dir: filepath.Join(root, "journal"), ep: ep, n: n, log: filepath.Join(root, "pub.log")}
	subs := []*child{
		{role: "subscriber", dir: filepath.Join(root, "pos0"), ep: ep, log: filepath.Join(root, "s0.log")},
		{role: "subscriber", dir: filepath.Join(root, "pos1"), ep: ep, log: filepath.Join(root, "s1.log")},
	}
	all := append([]*child{pub}, subs...)
	startAll(t, all)
	killLoop(t, 9, func(rng *rand.Rand) []*child {
		victims := []*child{subs[rng.IntN(2)]}
		if rng.IntN(4) == 0 {
			victims = append(victims, pub)
		}
		return victims
	})
	deadline := time.Now().Add(90*time.Second + time.Duration(n)*time.Millisecond)
	for {
		finished := 0
		for _, s := range subs {
			offs, _ := events(t, s.log, "P")
			if len(offs) > 0 && offs[len(offs)-1] == n-1 {
				finished++
			}
		}
		if finished == len(subs) {
			break
		}
		require.True(t, time.Now().Before(deadline), "subscribers did not reach the end")
		time.Sleep(50 * time.Millisecond)
	}
	for _, c := range all {
		c.kill(t)
	}
	for i, s := range subs {
		runs, replayed := checkStreamLog(t, i, s.log, n)
		t.Logf("subscriber %d: %d runs, every offset to %d in order, no gap; replayed %d messages after restarts (processed, position not yet stored)", i, runs, n-1, replayed)
	}
}

// checkStreamLog checks a subscriber's log: within a run offsets come in
// order with no gap and no duplicate; a run starts no later than where
// the previous one stopped (no gap) and no earlier than the last position
// it stored (positions never go back). It returns the runs and how many
// messages were delivered again at restarts.
func checkStreamLog(t *testing.T, who int, path string, n uint64) (runs, replayed int) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var stored, prev, last uint64
	hasPrev, first := false, true
	for _, line := range strings.Split(string(b), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if fields[0] == "R" {
			runs++
			first = true
			continue
		}
		if len(fields) != 2 {
			continue // a line a kill cut short
		}
		off, err := strconv.ParseUint(fields[1], 10, 64)
		require.NoError(t, err)
		switch fields[0] {
		case "S":
			require.GreaterOrEqual(t, off, stored, "subscriber %d: stored positions only move on", who)
			stored = off
		case "P":
			if first {
				first = false
				if hasPrev {
					require.LessOrEqual(t, off, prev+1, "subscriber %d: a restart skipped from %d to %d", who, prev, off)
					require.GreaterOrEqual(t, off, stored, "subscriber %d: a restart went back before its stored position %d", who, stored)
					replayed += int(prev + 1 - off)
				}
			} else {
				require.Equal(t, prev+1, off, "subscriber %d: in order within a run", who)
			}
			prev, hasPrev, last = off, true, off
		}
	}
	require.Equal(t, n-1, last)
	return runs, replayed
}

// A receiver process frozen with SIGSTOP while holding messages stops
// answering heartbeats: the journaled sender drops it and delivers what
// it held to another receiver, and every message is acknowledged once.
func TestJournalFrozenReceiverIsRedelivered(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	push := newSocket(t, socket.Push, socket.WithJournalDir(filepath.Join(t.TempDir(), "j")),
		socket.WithHeartbeat(100*time.Millisecond, 400*time.Millisecond, 0))
	require.NoError(t, push.Bind("tcp://127.0.0.1:0"))
	holder := &child{role: "holder", ep: push.LastEndpoint(), log: filepath.Join(t.TempDir(), "holder.log")}
	holder.start(t)
	defer holder.kill(t)
	require.Eventually(t, func() bool { return len(push.Stats().Peers) == 1 && push.Stats().Peers[0].Connected },
		20*time.Second, 5*time.Millisecond)
	const n = 20
	for i := range n {
		require.NoError(t, push.Send(ctx, msgOf(strconv.Itoa(i))))
	}
	require.Eventually(t, func() bool { offs, _ := events(t, holder.log, "P"); return len(offs) == n },
		20*time.Second, 5*time.Millisecond, "the holder got every message")
	require.NoError(t, holder.cmd.Process.Signal(syscall.SIGSTOP))
	defer holder.cmd.Process.Signal(syscall.SIGCONT) //nolint:errcheck // best effort before the kill

	pull := newSocket(t, socket.Pull)
	require.NoError(t, pull.Connect(push.LastEndpoint()))
	seen := map[uint64]bool{}
	for len(seen) < n {
		d, err := pull.RecvDelivery(ctx)
		require.NoError(t, err, "after %d of %d", len(seen), n)
		assert.False(t, seen[d.ID.Offset], "offset %d twice", d.ID.Offset)
		seen[d.ID.Offset] = true
		assert.GreaterOrEqual(t, d.Count, 2, "a redelivery")
		require.NoError(t, d.Ack())
	}
	require.NoError(t, push.WaitAcked(ctx))
	st := push.Stats().Journal
	assert.EqualValues(t, n, st.Acked)
	assert.EqualValues(t, n, st.Redelivered)
}
