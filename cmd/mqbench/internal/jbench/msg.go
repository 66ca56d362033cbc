package jbench

import (
	"encoding/binary"
	"math"

	"github.com/brookmq/brook/cmd/mqbench/internal/config"
	"github.com/brookmq/brook/cmd/mqbench/internal/stats"
)

// A message starts with its sequence number and its send time (ns on the
// run's clock, env.now), little endian; the rest of it is zeros.
const helloSeq = math.MaxUint64 // a publisher's readiness probe, not data

// newMsg returns a fresh message of size bytes (brook keeps what it
// sends, so every message needs its own buffer).
func newMsg(size int, seq uint64, sent int64) []byte {
	b := make([]byte, size)
	binary.LittleEndian.PutUint64(b, seq)
	binary.LittleEndian.PutUint64(b[8:], uint64(sent))
	return b
}

// parseMsg reads a message's sequence number and send time.
func parseMsg(b []byte) (seq uint64, sent int64, ok bool) {
	if len(b) < config.JournalHeaderSize {
		return 0, 0, false
	}
	return binary.LittleEndian.Uint64(b), int64(binary.LittleEndian.Uint64(b[8:])), true
}

// tally counts one stream of sequence numbers that should run 0, 1, 2,
// ... : what is missing, repeated or out of order.
type tally struct {
	next                        uint64 // the sequence number expected next
	received                    uint64
	lost, duplicates, reordered uint64
	latency                     *stats.Histogram // receive time - send time
}

func newTally() *tally { return &tally{latency: stats.NewHistogram()} }

// add counts seq, sent at sent and received at now.
func (t *tally) add(seq uint64, sent, now int64) {
	t.received++
	t.latency.Record(now - sent)
	switch {
	case seq == t.next:
		t.next++
	case seq > t.next:
		t.lost += seq - t.next // counted back if they come later
		t.next = seq + 1
	case t.lost > 0:
		t.reordered++
		t.lost--
	default:
		t.duplicates++
	}
}

// end settles the stream: n messages were sent.
func (t *tally) end(n uint64) {
	if n > t.next {
		t.lost += n - t.next
		t.next = n
	}
}

// figure fills f's counts from the tally.
func (t *tally) figure(f *Figure) {
	f.Lost, f.Duplicates, f.OutOfOrder = t.lost, t.duplicates, t.reordered
}
