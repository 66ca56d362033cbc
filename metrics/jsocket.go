package metrics

import (
	"github.com/brookmq/brook/socket"
	"github.com/prometheus/client_golang/prometheus"
)

// jsocketDescs describe the journal profile's per-socket metrics,
// exported for sockets whose Stats carry a Journal part.
type jsocketDescs struct {
	backlog, inflight, delayed                                *prometheus.Desc
	delivered, redelivered, acked, nacked, timedOut           *prometheus.Desc
	plain, deadLettered, lost, streamed, filtered, subscribed *prometheus.Desc
	received, duplicates, unacked, gaps                       *prometheus.Desc
}

func newJSocketDescs() jsocketDescs {
	l := []string{"socket", "type"}
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("brook_socket_journal_"+name, help, l, nil)
	}
	return jsocketDescs{
		backlog:      d("backlog_messages", "Journaled messages not acknowledged yet (journal end minus the acknowledgement floor)."),
		inflight:     d("in_flight_messages", "Journaled messages delivered and not acknowledged yet."),
		delayed:      d("delayed_messages", "Journaled messages waiting for their NotBefore time."),
		delivered:    d("delivered_total", "Deliveries of journaled messages, redeliveries included."),
		redelivered:  d("redelivered_total", "Deliveries after a message's first."),
		acked:        d("acked_total", "Acknowledgements received from receivers."),
		nacked:       d("nacked_total", "Negative acknowledgements received from receivers."),
		timedOut:     d("timed_out_total", "Deliveries taken back after the ack timeout."),
		plain:        d("plain_delivered_total", "Messages handed at most once to peers without the journal profile."),
		deadLettered: d("dead_lettered_total", "Messages moved to the dead-letter journal."),
		lost:         d("lost_total", "Messages deleted by retention before anyone acknowledged or read them."),
		streamed:     d("streamed_total", "Messages a journaled publisher sent to subscribers from its journal."),
		filtered:     d("filtered_total", "Offsets a journaled publisher's subscriber filters passed over."),
		subscribed:   d("subscribers", "Subscribers a journaled publisher serves from its journal."),
		received:     d("received_total", "Journaled messages that arrived at this receiver."),
		duplicates:   d("duplicates_total", "Journaled messages this receiver dropped as duplicates."),
		unacked:      d("unacked_messages", "Journaled messages this receiver's application holds unacknowledged."),
		gaps:         d("gap_messages_total", "Messages a resuming subscriber asked for that were gone."),
	}
}

func (d *jsocketDescs) all() []*prometheus.Desc {
	return []*prometheus.Desc{d.backlog, d.inflight, d.delayed, d.delivered, d.redelivered, d.acked, d.nacked,
		d.timedOut, d.plain, d.deadLettered, d.lost, d.streamed, d.filtered, d.subscribed,
		d.received, d.duplicates, d.unacked, d.gaps}
}

func (d *jsocketDescs) collect(ch chan<- prometheus.Metric, name, typ string, j *socket.JournalStats) {
	if j == nil {
		return
	}
	counter := func(desc *prometheus.Desc, v uint64) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, float64(v), name, typ)
	}
	gauge := func(desc *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, name, typ)
	}
	gauge(d.backlog, float64(j.End-min(j.Floor, j.End)))
	gauge(d.inflight, float64(j.InFlight))
	gauge(d.delayed, float64(j.Delayed))
	counter(d.delivered, j.Delivered)
	counter(d.redelivered, j.Redelivered)
	counter(d.acked, j.Acked)
	counter(d.nacked, j.Nacked)
	counter(d.timedOut, j.TimedOut)
	counter(d.plain, j.PlainDelivered)
	counter(d.deadLettered, j.DeadLettered)
	counter(d.lost, j.Lost)
	counter(d.streamed, j.Streamed)
	counter(d.filtered, j.Filtered)
	gauge(d.subscribed, float64(j.Subscribers))
	counter(d.received, j.Received)
	counter(d.duplicates, j.Duplicates)
	gauge(d.unacked, float64(j.Unacked))
	counter(d.gaps, j.Gaps)
}
