package durable

import (
	"context"
	"fmt"
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
	for r.Offset() < end {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		rec, err := r.Next(ctx)
		cancel()
		require.NoError(t, err)
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
		require.Equal(t, uint64(off), rec.Offset)
		require.Equal(t, payloadFor(off), rec.Data, "record %d", off)
	}
}
