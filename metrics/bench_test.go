package metrics_test

import (
	"testing"

	"github.com/brookmq/brook/metrics"
	"github.com/brookmq/brook/socket"
	"github.com/prometheus/client_golang/prometheus"
)

// BenchmarkCollect measures one scrape's collection of a socket with 100
// peers: the cost a /metrics request adds, not a per-message cost.
func BenchmarkCollect(b *testing.B) {
	s := &fakeSocket{typ: socket.Router, st: socket.Stats{Sent: 1, Dropped: map[socket.DropReason]uint64{}}}
	for i := range 100 {
		s.st.Peers = append(s.st.Peers, socket.PeerStats{ID: uint64(i), Endpoint: "tcp://127.0.0.1:5555", Connected: true, Sent: 10})
	}
	for _, peers := range []bool{true, false} {
		name := "with-peers"
		if !peers {
			name = "socket-totals"
		}
		b.Run(name, func(b *testing.B) {
			c := metrics.New(metrics.WithPeerMetrics(peers))
			if err := c.AddSocket("api", s); err != nil {
				b.Fatal(err)
			}
			ch := make(chan prometheus.Metric, 1024)
			b.ReportAllocs()
			for b.Loop() {
				c.Collect(ch)
				for len(ch) > 0 {
					<-ch
				}
			}
		})
	}
}
