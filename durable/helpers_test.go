package durable

import (
	"bytes"
	"context"
	"fmt"
	"github.com/brookmq/brook/durable/internal/record"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// payloadFor returns a deterministic payload for record i of a test.
func payloadFor(i int) []byte {
	n := 1 + (i*37)%300
	b := make([]byte, n)
	for j := range b {
		b[j] = byte(i*131 + j*7)
	}
	copy(b, fmt.Sprintf("rec-%d|", i))
	return b
}

func openT(t testing.TB, dir string, opts ...Option) *Log {
	t.Helper()
	l, err := Open(dir, opts...)
	require.NoError(t, err)
	return l
}

func appendN(t testing.TB, l *Log, from, n int) {
	t.Helper()
	ctx := context.Background()
	for i := from; i < from+n; i++ {
		off, err := l.Append(ctx, payloadFor(i))
		require.NoError(t, err)
		require.Equal(t, uint64(i), off)
	}
}

// readAll reads [from, End) and returns the records.
func readAll(t testing.TB, l *Log, from uint64) []Record {
	t.Helper()
	r := l.NewReader(from)
	defer r.Close()
	var out []Record
	end := l.End()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for r.Offset() < end {
		rec, err := r.Next(ctx)
		if err != nil {
			require.NoError(t, err)
		}
		out = append(out, rec)
	}
	return out
}

// checkPrefix verifies that l holds exactly records [first, n) of payloadFor.
func checkPrefix(t testing.TB, l *Log, n int) {
	t.Helper()
	require.Equal(t, uint64(n), l.End())
	first := l.First()
	recs := readAll(t, l, first)
	require.Len(t, recs, n-int(first))
	for i, rec := range recs {
		off := int(first) + i
		if rec.Offset != uint64(off) || !bytes.Equal(payloadFor(off), rec.Data) {
			require.Equal(t, uint64(off), rec.Offset)
			require.Equal(t, payloadFor(off), rec.Data, "record %d", off)
		}
	}
}

// genPayload is the payload producer p appends as its s-th record in the
// crash tests; parsePayload recognises exactly these payloads.
func genPayload(p, s int) []byte {
	head := fmt.Sprintf("p%d s%d ", p, s)
	n := len(head) + (p*7919+s*104729)%400
	b := make([]byte, n)
	copy(b, head)
	for i := len(head); i < n; i++ {
		b[i] = byte(p + s*3 + i*11)
	}
	return b
}

func parsePayload(b []byte) (p, s int, ok bool) {
	if _, err := fmt.Sscanf(string(b), "p%d s%d ", &p, &s); err != nil {
		return 0, 0, false
	}
	if p < 0 || s < 0 || p > 1<<20 || s > 1<<30 {
		return 0, 0, false
	}
	return p, s, string(genPayload(p, s)) == string(b)
}

// rngFor returns a reproducible random source for a test's crash images.
func rngFor(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

// pendingBytes4Test returns the bytes queued for the writer.
func (l *Log) pendingBytes4Test() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pendingBytes
}

// recordSizeFor is the on-disk size of record i of payloadFor.
func recordSizeFor(i int) int { return record.Size(len(payloadFor(i))) }

// holdSegmentSyncs makes every fsync of a segment file wait until release
// is closed; entered receives when the first one is waiting.
func holdSegmentSyncs(mfs *memFS) (entered <-chan struct{}, release chan struct{}) {
	in := make(chan struct{}, 1)
	release = make(chan struct{})
	mfs.setFault(func(op, name string) error {
		if op == "sync" && strings.Contains(name, segSuffix) {
			select {
			case in <- struct{}{}:
			default:
			}
			<-release
		}
		return nil
	})
	return in, release
}
