package metrics

import (
	"strconv"

	"github.com/brookmq/brook/durable"
	"github.com/prometheus/client_golang/prometheus"
)

// journalDescs describe the per-journal metrics.
type journalDescs struct {
	info, first, end, durableEnd, bytes, segments, syncs, last, cursorOffset, cursorLag *prometheus.Desc
}

func newJournalDescs() journalDescs {
	d := func(name, help string, extra ...string) *prometheus.Desc {
		return prometheus.NewDesc("brook_journal_"+name, help, append([]string{"journal"}, extra...), nil)
	}
	return journalDescs{
		info:         d("info", "Always 1: the journal's id, sync mode and whether it was opened read-only.", "id", "sync", "read_only"),
		first:        d("first_offset", "Oldest retained offset."),
		end:          d("end_offset", "Offset the next append gets."),
		durableEnd:   d("durable_end_offset", "End of what is fsynced."),
		bytes:        d("size_bytes", "Total size of the segment files."),
		segments:     d("segments", "Number of segment files."),
		syncs:        d("syncs_total", "fdatasyncs of appended data since the journal was opened."),
		last:         d("last_record_timestamp_seconds", "Unix time of the newest record."),
		cursorOffset: d("cursor_offset", "The cursor's ack floor: every offset below it is acknowledged.", "cursor"),
		cursorLag:    d("cursor_lag_records", "End offset minus the cursor's ack floor.", "cursor"),
	}
}

func (d *journalDescs) all() []*prometheus.Desc {
	return []*prometheus.Desc{d.info, d.first, d.end, d.durableEnd, d.bytes, d.segments, d.syncs, d.last, d.cursorOffset, d.cursorLag}
}

func (d *journalDescs) collect(ch chan<- prometheus.Metric, name string, st *durable.Stats) {
	gauge := func(desc *prometheus.Desc, v float64, extra ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, append([]string{name}, extra...)...)
	}
	gauge(d.info, 1, st.ID.String(), st.Sync.String(), strconv.FormatBool(st.ReadOnly))
	gauge(d.first, float64(st.First))
	gauge(d.end, float64(st.End))
	gauge(d.durableEnd, float64(st.DurableEnd))
	gauge(d.bytes, float64(st.Bytes))
	gauge(d.segments, float64(len(st.Segments)))
	ch <- prometheus.MustNewConstMetric(d.syncs, prometheus.CounterValue, float64(st.Syncs), name)
	for i := len(st.Segments) - 1; i >= 0; i-- {
		if s := st.Segments[i]; !s.Last.IsZero() {
			gauge(d.last, float64(s.Last.UnixNano())/1e9)
			break
		}
	}
	for _, c := range st.Cursors {
		gauge(d.cursorOffset, float64(c.Offset), c.Name)
		lag := uint64(0)
		if st.End > c.Offset {
			lag = st.End - c.Offset
		}
		gauge(d.cursorLag, float64(lag), c.Name)
	}
}
