package metrics

// Option configures a Collector.
type Option func(*options)

type options struct {
	peers bool
}

// WithPeerMetrics turns the per-peer metrics (brook_peer_*) on or off;
// they are on by default. Turn them off for bound sockets that see many
// short-lived connections: each connection is a new series.
func WithPeerMetrics(on bool) Option {
	return func(o *options) { o.peers = on }
}
