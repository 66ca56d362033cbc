package socket_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/durable"
	"github.com/brookmq/brook/socket"
)

// batchPublisher sends batches of 1 to 300 messages with SendBatch on a
// journaled PUB (Group sync: accepted means fsynced), each message
// carrying its offset, until n are accepted, logging "C <end>" after each
// batch: every offset below end was accepted. One batch in eight has an
// empty message inside, where it must stop.
func batchPublisher(logf *os.File, dir string, n uint64) error {
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
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(os.Getpid())))
	// What a killed run journaled without being told is there too: the
	// offsets go on from the journal's end.
	next := log.End()
	logLine(logf, "C %d", next)
	for next < n {
		size := int(min(1+uint64(rng.IntN(300)), n-next))
		msgs := make([]socket.Msg, size)
		for i := range msgs {
			msgs[i] = msgOf(strconv.FormatUint(next+uint64(i), 10))
		}
		want := size
		if rng.IntN(8) == 0 {
			want = rng.IntN(size)
			msgs[want] = socket.Msg{}
		}
		got, err := pub.SendBatch(ctx, msgs)
		if got != want || (want < size) != errors.Is(err, socket.ErrEmptyMsg) || (want == size && err != nil) {
			return fmt.Errorf("batch of %d (empty at %d): accepted %d, %v", size, want, got, err)
		}
		next += uint64(got)
		if log.DurableEnd() < next {
			return fmt.Errorf("accepted up to %d, durable end %d", next, log.DurableEnd())
		}
		logLine(logf, "C %d", next)
	}
	for {
		time.Sleep(time.Second) // killed here at the end
	}
}

// TestSendBatchSurvivesKills: a process sending batches with SendBatch on
// a journaled PUB is SIGKILLed at random and restarted. Every message of
// every batch SendBatch reported accepted is in the journal afterwards,
// at its offset, once, and nothing else is (the journal holds exactly the
// messages the batches carried, in order).
func TestSendBatchSurvivesKills(t *testing.T) {
	if testing.Short() {
		t.Skip("kill loop")
	}
	root := t.TempDir()
	n := uint64(20000 + 2000**kills)
	b := &child{role: "batcher", dir: filepath.Join(root, "journal"), n: n, log: filepath.Join(root, "batcher.log")}
	startAll(t, []*child{b})
	killLoop(t, 11, func(*rand.Rand) []*child { return []*child{b} })
	deadline := time.Now().Add(120 * time.Second)
	for {
		accepted, _ := events(t, b.log, "C")
		if len(accepted) > 0 && accepted[len(accepted)-1] == n {
			break
		}
		require.True(t, time.Now().Before(deadline), "stuck at %v", accepted[max(0, len(accepted)-1):])
		time.Sleep(50 * time.Millisecond)
	}
	b.kill(t)
	accepted, _ := events(t, b.log, "C")
	for i := 1; i < len(accepted); i++ {
		if accepted[i] < accepted[i-1] {
			t.Fatalf("accepted end went back from %d to %d: an accepted batch was lost", accepted[i-1], accepted[i])
		}
	}
	t.Logf("%d batch results logged over %d kills", len(accepted), *kills)

	log, err := durable.Open(b.dir)
	require.NoError(t, err)
	defer log.Close()
	require.Equal(t, n, log.End(), "exactly the accepted messages")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r := log.NewReader(0)
	defer r.Close()
	for off := range n {
		rec, err := r.Next(ctx)
		require.NoError(t, err)
		frames, err := rec.Frames()
		require.NoError(t, err)
		if got := string(frames[len(frames)-1]); got != strconv.FormatUint(off, 10) {
			t.Fatalf("offset %d holds message %q", off, got)
		}
	}
}
