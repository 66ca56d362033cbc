package durable

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// In the modes that acknowledge durability (Group, Always) a record is
// visible once it is durable, never later: DurableEnd never runs ahead of
// End. A journaled socket hands out what DurableEnd covers and then acks
// it through a Cursor, which refuses offsets past End; a DurableEnd ahead
// of End, for an instant, made that ack fail and the floor stick.
func TestDurableEndNeverAheadOfEnd(t *testing.T) {
	for _, mode := range []SyncMode{Group, Always} {
		t.Run(mode.String(), func(t *testing.T) {
			l := openT(t, t.TempDir(), WithSync(mode), WithSegmentSize(64<<10))
			defer func() { require.NoError(t, l.Close()) }()
			var stop atomic.Bool
			var ahead atomic.Int64
			var wg sync.WaitGroup
			for range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for !stop.Load() {
						d := l.DurableEnd()
						if e := l.End(); d > e {
							ahead.Add(1)
						}
					}
				}()
			}
			ctx := context.Background()
			payload := make([]byte, 200)
			deadline := time.Now().Add(300 * time.Millisecond)
			for time.Now().Before(deadline) {
				for range 64 {
					_, err := l.AppendAsync(ctx, payload)
					require.NoError(t, err)
				}
				require.NoError(t, l.Sync())
			}
			stop.Store(true)
			wg.Wait()
			assert.Zero(t, ahead.Load(), "DurableEnd was seen ahead of End")
		})
	}
}
