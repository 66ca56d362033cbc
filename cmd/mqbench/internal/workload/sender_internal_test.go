package workload

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/cmd/mqbench/internal/payload"
)

// A sender for a library that keeps its frames gives every message memory
// of its own, carved or not: no message overlaps another, and a carved body has
// no spare capacity a receiver could release into brook's pools.
func TestSenderFreshMessagesShareNothing(t *testing.T) {
	for _, size := range []int{payload.HeaderSize, 64, carveMax, carveMax + 1, 4096} {
		s := &sender{fresh: true}
		n := 3 * carveBlock / size // crosses blocks of bodies and of lists
		msgs := make([][][]byte, n)
		for i := range msgs {
			h := payload.Header{Seq: uint64(i)}
			msgs[i] = s.message(&h, size)
			require.Len(t, msgs[i], 1)
			require.Len(t, msgs[i][0], size)
			require.Equal(t, size, cap(msgs[i][0]), "size %d: no spare capacity", size)
			require.Equal(t, 1, cap(msgs[i]), "size %d: the frame list has no spare slot", size)
		}
		for i := range msgs {
			got, err := payload.Parse(msgs[i][0])
			require.NoError(t, err)
			require.Equal(t, uint64(i), got.Seq, "size %d: message %d was overwritten", size, i)
			require.Equal(t, make([]byte, size-payload.HeaderSize), msgs[i][0][payload.HeaderSize:])
			for j := range msgs[i][0] {
				msgs[i][0][j] = 0xff
			}
		}
		// A fresh message after all that is still zeroed past its header.
		h := payload.Header{Seq: 1}
		m := s.message(&h, size)
		got, err := payload.Parse(m[0])
		require.NoError(t, err)
		assert.Equal(t, uint64(1), got.Seq)
		assert.Equal(t, make([]byte, size-payload.HeaderSize), m[0][payload.HeaderSize:])
	}
}

// A sender for a library that copies reuses one buffer.
func TestSenderReusesForCopyingLibraries(t *testing.T) {
	s := &sender{}
	h := payload.Header{Seq: 1}
	a := s.message(&h, 64)
	h.Seq = 2
	b := s.message(&h, 64)
	assert.Same(t, &a[0][0], &b[0][0])
	got, err := payload.Parse(a[0])
	require.NoError(t, err)
	assert.Equal(t, uint64(2), got.Seq)
}

// BenchmarkSenderMessage is the sender's cost per message for a library
// that keeps its frames: carved (what mqbench does) against a body and a
// frame list allocated per message (what it did before), in one run.
//
//	go test -run '^$' -bench SenderMessage -benchmem ./cmd/mqbench/internal/workload/
func BenchmarkSenderMessage(b *testing.B) {
	for _, size := range []int{64, 1024} {
		b.Run(fmt.Sprintf("%dB/carved", size), func(b *testing.B) {
			s := &sender{fresh: true}
			h := payload.Header{}
			b.ReportAllocs()
			for i := range b.N {
				h.Seq = uint64(i)
				sink = s.message(&h, size)
			}
		})
		b.Run(fmt.Sprintf("%dB/make", size), func(b *testing.B) {
			h := payload.Header{}
			b.ReportAllocs()
			for i := range b.N {
				h.Seq = uint64(i)
				m := make([]byte, size)
				h.Put(m)
				sink = [][]byte{m}
			}
		})
	}
}

// sink keeps the benchmarks' messages alive past their loop body.
var sink [][]byte

// TestClosedLoopPacerReadsNoClock: a closed-loop pacer makes every message
// due at once without reading the clock (the sender reads it once per
// message for the header already); an open-loop one reads it to wait.
func TestClosedLoopPacerReadsNoClock(t *testing.T) {
	reads := 0
	clock := func() int64 { reads++; return time.Now().UnixNano() }
	p := newPacer(0, false, time.Now(), nil)
	p.clock = clock
	for i := range int64(1000) {
		p.waitUntil(p.due(i))
	}
	assert.Zero(t, reads, "closed loop")

	p = newPacer(1e9, false, time.Now().Add(-time.Second), nil)
	p.clock = clock
	p.waitUntil(p.due(0)) // long past: no wait
	assert.Equal(t, 1, reads, "open loop")
}
