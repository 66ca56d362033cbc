package metrics

import (
	"strconv"

	"github.com/brookmq/brook/socket"
	"github.com/prometheus/client_golang/prometheus"
)

// dropReasons are the reasons exported even at zero.
func dropReasons() []socket.DropReason {
	return []socket.DropReason{socket.DropHWM, socket.DropNoPeer, socket.DropPeerGone, socket.DropUnexpected, socket.DropUnread}
}

// socketDescs describe the per-socket metrics.
type socketDescs struct {
	sent, received, dropped, missed, peers, connected *prometheus.Desc
}

func newSocketDescs() socketDescs {
	l := []string{"socket", "type"}
	d := func(name, help string, extra ...string) *prometheus.Desc {
		return prometheus.NewDesc("brook_socket_"+name, help, append(l, extra...), nil)
	}
	return socketDescs{
		sent:      d("sent_messages_total", "Messages Send accepted."),
		received:  d("received_messages_total", "Messages Recv returned."),
		dropped:   d("dropped_messages_total", "Messages dropped, by reason (hwm, no-peer, peer-gone, unexpected, unread).", "reason"),
		missed:    d("monitor_missed_events_total", "Monitor events a slow monitor subscriber missed."),
		peers:     d("peers", "Pipes: connected peers and connecting endpoints."),
		connected: d("connected_peers", "Pipes with a connection up."),
	}
}

func (d *socketDescs) all() []*prometheus.Desc {
	return []*prometheus.Desc{d.sent, d.received, d.dropped, d.missed, d.peers, d.connected}
}

func (d *socketDescs) collect(ch chan<- prometheus.Metric, name, typ string, st *socket.Stats) {
	counter := func(desc *prometheus.Desc, v uint64, extra ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, float64(v), append([]string{name, typ}, extra...)...)
	}
	gauge := func(desc *prometheus.Desc, v int) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(v), name, typ)
	}
	counter(d.sent, st.Sent)
	counter(d.received, st.Received)
	known := map[socket.DropReason]bool{}
	for _, r := range dropReasons() {
		known[r] = true
		counter(d.dropped, st.Dropped[r], r.String())
	}
	for r, n := range st.Dropped { // a reason newer than this package
		if !known[r] {
			counter(d.dropped, n, r.String())
		}
	}
	counter(d.missed, st.MonitorMissed)
	connected := 0
	for _, p := range st.Peers {
		if p.Connected {
			connected++
		}
	}
	gauge(d.peers, len(st.Peers))
	gauge(d.connected, connected)
}

// peerDescs describe the per-pipe metrics.
type peerDescs struct {
	connected, queued, sent, received, conns *prometheus.Desc
}

func newPeerDescs() peerDescs {
	l := []string{"socket", "type", "peer", "endpoint", "peer_type"}
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("brook_peer_"+name, help, l, nil)
	}
	return peerDescs{
		connected: d("connected", "1 while the pipe's connection is up, else 0."),
		queued:    d("queued_messages", "Messages waiting in the pipe's send queue."),
		sent:      d("sent_messages_total", "Messages written to the pipe's connection."),
		received:  d("received_messages_total", "Messages read from the pipe's connection."),
		conns:     d("connections_total", "Successful handshakes on the pipe."),
	}
}

func (d *peerDescs) all() []*prometheus.Desc {
	return []*prometheus.Desc{d.connected, d.queued, d.sent, d.received, d.conns}
}

func (d *peerDescs) collect(ch chan<- prometheus.Metric, name, typ string, peers []socket.PeerStats) {
	for _, p := range peers {
		labels := []string{name, typ, strconv.FormatUint(p.ID, 10), p.Endpoint, p.Peer.SocketType}
		up := 0.0
		if p.Connected {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(d.connected, prometheus.GaugeValue, up, labels...)
		ch <- prometheus.MustNewConstMetric(d.queued, prometheus.GaugeValue, float64(p.Queued), labels...)
		ch <- prometheus.MustNewConstMetric(d.sent, prometheus.CounterValue, float64(p.Sent), labels...)
		ch <- prometheus.MustNewConstMetric(d.received, prometheus.CounterValue, float64(p.Received), labels...)
		ch <- prometheus.MustNewConstMetric(d.conns, prometheus.CounterValue, float64(p.Connections), labels...)
	}
}
