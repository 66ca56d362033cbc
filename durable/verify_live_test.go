package durable

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Verify may run while appends continue: a segment that rolls while it is
// being scanned is not damage.
func TestVerifyWhileAppending(t *testing.T) {
	for _, mode := range []SyncMode{Group, None} {
		t.Run(mode.String(), func(t *testing.T) {
			l := openT(t, t.TempDir(), WithSync(mode), WithSegmentSize(4096))
			const n = 400 // some 13 segments
			done := make(chan struct{})
			go func() {
				defer close(done)
				for i := range n {
					if _, err := l.Append(context.Background(), payloadFor(i)); !assert.NoError(t, err) {
						return
					}
					if mode == None && i%8 == 0 {
						// Keep None's batches small so the scans overlap rolls.
						assert.NoError(t, l.Sync())
					}
				}
			}()
			for verifying := true; verifying; {
				select {
				case <-done:
					verifying = false
				default:
				}
				_, err := l.Verify(context.Background())
				require.NoError(t, err)
			}
			require.NoError(t, l.Sync())
			rep, err := l.Verify(context.Background())
			require.NoError(t, err)
			assert.Equal(t, uint64(n), rep.Records)
			require.NoError(t, l.Close())
		})
	}
}
