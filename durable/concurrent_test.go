package durable

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Test 7 of doc.go's failure tests: tailing readers run during appends, segment rolls and
// retention (run under -race). Each reader sees strictly consecutive offsets,
// valid payloads and each producer's records in order; a reader overtaken by
// retention gets ErrOutOfRange and jumps to First.
func TestConcurrentTailingReaders(t *testing.T) {
	for _, mode := range []SyncMode{Group, None} {
		t.Run(mode.String(), func(t *testing.T) {
			l := openT(t, t.TempDir(), WithSync(mode), WithSegmentSize(8<<10), WithRetainBytes(64<<10))
			const producers, perProducer, readers = 4, 400, 3
			total := uint64(producers * perProducer)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			var wg sync.WaitGroup
			for p := range producers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for s := range perProducer {
						if _, err := l.Append(ctx, genPayload(p, s)); err != nil {
							assert.NoError(t, err)
							return
						}
					}
				}()
			}
			var rwg sync.WaitGroup
			for range readers {
				rwg.Add(1)
				go func() {
					defer rwg.Done()
					r := l.NewReader(0)
					defer r.Close()
					last := map[int]int{}
					prev := int64(-1)
					for r.Offset() < total {
						rec, err := r.Next(ctx)
						if errors.Is(err, ErrOutOfRange) {
							r.Seek(l.First())
							prev = -1
							continue
						}
						if !assert.NoError(t, err) {
							return
						}
						if prev >= 0 && rec.Offset != uint64(prev)+1 {
							assert.Fail(t, "gap", "offset %d after %d", rec.Offset, prev)
							return
						}
						prev = int64(rec.Offset)
						p, s, ok := parsePayload(rec.Data)
						if !assert.True(t, ok, "bad payload at %d", rec.Offset) {
							return
						}
						if ls, seen := last[p]; seen && s <= ls {
							assert.Fail(t, "reorder", "producer %d seq %d after %d", p, s, ls)
							return
						}
						last[p] = s
					}
				}()
			}
			wg.Wait()
			if mode == None {
				require.NoError(t, l.Sync())
			}
			rwg.Wait()
			require.NoError(t, l.Close())
		})
	}
}

// A Reader blocked at the end returns when its context ends and when the Log
// closes.
func TestReaderBlocksUntilContextOrClose(t *testing.T) {
	l := openT(t, t.TempDir())
	appendN(t, l, 0, 1)
	r := l.NewReader(1)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := r.Next(ctx)
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	got := make(chan error, 1)
	go func() {
		_, err := r.Next(context.Background())
		got <- err
	}()
	appendN(t, l, 1, 1)
	require.NoError(t, <-got)
	go func() {
		_, err := r.Next(context.Background())
		got <- err
	}()
	require.NoError(t, l.Close())
	assert.ErrorIs(t, <-got, ErrClosed)
}
