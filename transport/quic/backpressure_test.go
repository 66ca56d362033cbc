package quic

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

// TestBackpressureKeepsLiveness: a receiver whose application stops
// reading fills the data stream's flow-control window and blocks the
// sender, yet both sides keep exchanging liveness records for many
// liveness timeouts, and nothing is lost once reading resumes.
func TestBackpressureKeepsLiveness(t *testing.T) {
	const (
		interval = 100 * time.Millisecond
		// Generous: -race on a busy machine (1.5 s was once exceeded
		// with the whole suite running beside other work).
		timeout = 2500 * time.Millisecond
		n       = 400
		size    = 4096 // n*size is 25 times the window
	)
	cli, srv := pair(t, WithLiveness(interval, timeout), WithReceiveWindow(64<<10))
	wrote := make(chan error, 1)
	go func() {
		payload := make([]byte, size)
		for i := range n {
			payload[0] = byte(i)
			if err := cli.WriteMsg(transport.NewMsg(append([]byte(nil), payload...))); err != nil {
				wrote <- err
				return
			}
			if err := cli.Flush(); err != nil {
				wrote <- err
				return
			}
		}
		wrote <- nil
	}()

	// Each side hears at least one record per interval; these many take
	// three liveness timeouts.
	records := int64(3 * timeout / interval)
	cliStart, srvStart := cli.lv.records.Load(), srv.lv.records.Load()
	require.Eventually(t, func() bool {
		return cli.lv.records.Load()-cliStart >= records && srv.lv.records.Load()-srvStart >= records
	}, 30*time.Second, interval)
	select {
	case err := <-wrote:
		t.Fatalf("the writer finished (%v) although nobody read: no backpressure to test", err)
	default:
	}
	assert.NoError(t, cli.qc.Context().Err(), "connector dropped under backpressure")
	assert.NoError(t, srv.qc.Context().Err(), "listener dropped under backpressure")

	for i := range n {
		m, err := srv.ReadMsg()
		require.NoError(t, err, "message %d", i)
		require.Len(t, m.Frames, 1)
		assert.Equal(t, byte(i), m.Frames[0][0])
	}
	require.NoError(t, <-wrote)
}
