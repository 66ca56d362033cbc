package metrics_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/brookmq/brook/durable"
	"github.com/brookmq/brook/metrics"
	"github.com/brookmq/brook/socket"
	"github.com/brookmq/brook/transport"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeSocket returns fixed Stats, so every exported value is known.
type fakeSocket struct {
	typ socket.Type
	st  socket.Stats
}

func (f *fakeSocket) Type() socket.Type   { return f.typ }
func (f *fakeSocket) Stats() socket.Stats { return f.st }

type fakeJournal struct{ st durable.Stats }

func (f *fakeJournal) Stats() durable.Stats { return f.st }

func routerStats() *fakeSocket {
	return &fakeSocket{typ: socket.Router, st: socket.Stats{
		Sent: 10, Received: 7,
		Dropped:       map[socket.DropReason]uint64{socket.DropHWM: 3, socket.DropNoPeer: 1},
		MonitorMissed: 2,
		Peers: []socket.PeerStats{
			{ID: 4, Endpoint: "tcp://127.0.0.1:5555", Peer: transport.PeerInfo{SocketType: "DEALER"}, Connected: true, Queued: 5, Sent: 6, Received: 7, Connections: 1},
			{ID: 9, Endpoint: "tcp://127.0.0.1:5555", Connected: false, Sent: 4},
		},
	}}
}

func TestSocketMetrics(t *testing.T) {
	c := metrics.New()
	require.NoError(t, c.AddSocket("api", routerStats()))
	expected := `
# HELP brook_socket_sent_messages_total Messages Send accepted.
# TYPE brook_socket_sent_messages_total counter
brook_socket_sent_messages_total{socket="api",type="ROUTER"} 10
# HELP brook_socket_received_messages_total Messages Recv returned.
# TYPE brook_socket_received_messages_total counter
brook_socket_received_messages_total{socket="api",type="ROUTER"} 7
# HELP brook_socket_dropped_messages_total Messages dropped, by reason (hwm, no-peer, peer-gone, unexpected, unread).
# TYPE brook_socket_dropped_messages_total counter
brook_socket_dropped_messages_total{reason="hwm",socket="api",type="ROUTER"} 3
brook_socket_dropped_messages_total{reason="no-peer",socket="api",type="ROUTER"} 1
brook_socket_dropped_messages_total{reason="peer-gone",socket="api",type="ROUTER"} 0
brook_socket_dropped_messages_total{reason="unexpected",socket="api",type="ROUTER"} 0
brook_socket_dropped_messages_total{reason="unread",socket="api",type="ROUTER"} 0
# HELP brook_socket_monitor_missed_events_total Monitor events a slow monitor subscriber missed.
# TYPE brook_socket_monitor_missed_events_total counter
brook_socket_monitor_missed_events_total{socket="api",type="ROUTER"} 2
# HELP brook_socket_peers Pipes: connected peers and connecting endpoints.
# TYPE brook_socket_peers gauge
brook_socket_peers{socket="api",type="ROUTER"} 2
# HELP brook_socket_connected_peers Pipes with a connection up.
# TYPE brook_socket_connected_peers gauge
brook_socket_connected_peers{socket="api",type="ROUTER"} 1
# HELP brook_peer_connected 1 while the pipe's connection is up, else 0.
# TYPE brook_peer_connected gauge
brook_peer_connected{endpoint="tcp://127.0.0.1:5555",peer="4",peer_type="DEALER",socket="api",type="ROUTER"} 1
brook_peer_connected{endpoint="tcp://127.0.0.1:5555",peer="9",peer_type="",socket="api",type="ROUTER"} 0
# HELP brook_peer_queued_messages Messages waiting in the pipe's send queue.
# TYPE brook_peer_queued_messages gauge
brook_peer_queued_messages{endpoint="tcp://127.0.0.1:5555",peer="4",peer_type="DEALER",socket="api",type="ROUTER"} 5
brook_peer_queued_messages{endpoint="tcp://127.0.0.1:5555",peer="9",peer_type="",socket="api",type="ROUTER"} 0
# HELP brook_peer_sent_messages_total Messages written to the pipe's connection.
# TYPE brook_peer_sent_messages_total counter
brook_peer_sent_messages_total{endpoint="tcp://127.0.0.1:5555",peer="4",peer_type="DEALER",socket="api",type="ROUTER"} 6
brook_peer_sent_messages_total{endpoint="tcp://127.0.0.1:5555",peer="9",peer_type="",socket="api",type="ROUTER"} 4
# HELP brook_peer_received_messages_total Messages read from the pipe's connection.
# TYPE brook_peer_received_messages_total counter
brook_peer_received_messages_total{endpoint="tcp://127.0.0.1:5555",peer="4",peer_type="DEALER",socket="api",type="ROUTER"} 7
brook_peer_received_messages_total{endpoint="tcp://127.0.0.1:5555",peer="9",peer_type="",socket="api",type="ROUTER"} 0
# HELP brook_peer_connections_total Successful handshakes on the pipe.
# TYPE brook_peer_connections_total counter
brook_peer_connections_total{endpoint="tcp://127.0.0.1:5555",peer="4",peer_type="DEALER",socket="api",type="ROUTER"} 1
brook_peer_connections_total{endpoint="tcp://127.0.0.1:5555",peer="9",peer_type="",socket="api",type="ROUTER"} 0
`
	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(expected)))

	problems, err := testutil.CollectAndLint(c)
	require.NoError(t, err)
	assert.Empty(t, problems, "metric names and help follow Prometheus conventions")
}

func TestWithoutPeerMetrics(t *testing.T) {
	c := metrics.New(metrics.WithPeerMetrics(false))
	require.NoError(t, c.AddSocket("api", routerStats()))
	assert.Zero(t, testutil.CollectAndCount(c, "brook_peer_connected", "brook_peer_queued_messages",
		"brook_peer_sent_messages_total", "brook_peer_received_messages_total", "brook_peer_connections_total"))
	assert.Equal(t, 1, testutil.CollectAndCount(c, "brook_socket_peers"), "socket totals stay")
	// The descriptors say the same as the metrics: a registry accepts it.
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(c))
	_, err := reg.Gather()
	require.NoError(t, err)
}

// A drop reason newer than the collector is still exported, under its
// own name.
func TestUnknownDropReason(t *testing.T) {
	s := &fakeSocket{typ: socket.Pub, st: socket.Stats{Dropped: map[socket.DropReason]uint64{socket.DropReason(42): 5}}}
	c := metrics.New()
	require.NoError(t, c.AddSocket("feed", s))
	assert.Equal(t, 6, testutil.CollectAndCount(c, "brook_socket_dropped_messages_total"))
	out, err := testutil.CollectAndFormat(c, expfmt.TypeTextPlain, "brook_socket_dropped_messages_total")
	require.NoError(t, err)
	assert.Contains(t, string(out), `brook_socket_dropped_messages_total{reason="DropReason(42)",socket="feed",type="PUB"} 5`)
}

func TestJournalMetrics(t *testing.T) {
	var id durable.JournalID
	id[0], id[15] = 0xab, 0x01
	last := time.Unix(1700000000, 500_000_000)
	j := &fakeJournal{st: durable.Stats{
		ID: id, First: 100, End: 250, DurableEnd: 240, Bytes: 8192, Sync: durable.Group, Syncs: 17,
		Segments: []durable.SegmentInfo{{Base: 100, End: 200, Sealed: true, Last: last.Add(-time.Second)}, {Base: 200, End: 250, Last: last}},
		Cursors:  []durable.CursorInfo{{Name: "billing", Offset: 230}, {Name: "audit", Offset: 100}},
	}}
	c := metrics.New()
	require.NoError(t, c.AddJournal("orders", j))
	expected := `
# HELP brook_journal_info Always 1: the journal's id, sync mode and whether it was opened read-only.
# TYPE brook_journal_info gauge
brook_journal_info{id="ab000000000000000000000000000001",journal="orders",read_only="false",sync="` + durable.Group.String() + `"} 1
# HELP brook_journal_first_offset Oldest retained offset.
# TYPE brook_journal_first_offset gauge
brook_journal_first_offset{journal="orders"} 100
# HELP brook_journal_end_offset Offset the next append gets.
# TYPE brook_journal_end_offset gauge
brook_journal_end_offset{journal="orders"} 250
# HELP brook_journal_durable_end_offset End of what is fsynced.
# TYPE brook_journal_durable_end_offset gauge
brook_journal_durable_end_offset{journal="orders"} 240
# HELP brook_journal_size_bytes Total size of the segment files.
# TYPE brook_journal_size_bytes gauge
brook_journal_size_bytes{journal="orders"} 8192
# HELP brook_journal_segments Number of segment files.
# TYPE brook_journal_segments gauge
brook_journal_segments{journal="orders"} 2
# HELP brook_journal_syncs_total fdatasyncs of appended data since the journal was opened.
# TYPE brook_journal_syncs_total counter
brook_journal_syncs_total{journal="orders"} 17
# HELP brook_journal_last_record_timestamp_seconds Unix time of the newest record.
# TYPE brook_journal_last_record_timestamp_seconds gauge
brook_journal_last_record_timestamp_seconds{journal="orders"} 1.7000000005e+09
# HELP brook_journal_cursor_offset The cursor's ack floor: every offset below it is acknowledged.
# TYPE brook_journal_cursor_offset gauge
brook_journal_cursor_offset{cursor="audit",journal="orders"} 100
brook_journal_cursor_offset{cursor="billing",journal="orders"} 230
# HELP brook_journal_cursor_lag_records End offset minus the cursor's ack floor.
# TYPE brook_journal_cursor_lag_records gauge
brook_journal_cursor_lag_records{cursor="audit",journal="orders"} 150
brook_journal_cursor_lag_records{cursor="billing",journal="orders"} 20
`
	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(expected)))
	problems, err := testutil.CollectAndLint(c)
	require.NoError(t, err)
	assert.Empty(t, problems)

	// An empty journal has no newest record.
	require.True(t, c.RemoveJournal("orders"))
	require.NoError(t, c.AddJournal("empty", &fakeJournal{st: durable.Stats{Segments: []durable.SegmentInfo{{}}}}))
	assert.Zero(t, testutil.CollectAndCount(c, "brook_journal_last_record_timestamp_seconds"))
	assert.Equal(t, 1, testutil.CollectAndCount(c, "brook_journal_end_offset"))
}

func TestAddRemove(t *testing.T) {
	c := metrics.New()
	s := routerStats()
	require.ErrorIs(t, c.AddSocket("", s), metrics.ErrBadSource)
	require.ErrorIs(t, c.AddSocket("x", nil), metrics.ErrBadSource)
	require.ErrorIs(t, c.AddJournal("j", nil), metrics.ErrBadSource)
	require.NoError(t, c.AddSocket("a", s))
	require.NoError(t, c.AddSocket("b", s), "one socket under two names")
	require.ErrorIs(t, c.AddSocket("a", s), metrics.ErrDuplicateName)
	assert.Equal(t, 2, testutil.CollectAndCount(c, "brook_socket_sent_messages_total"))
	assert.True(t, c.RemoveSocket("a"))
	assert.False(t, c.RemoveSocket("a"))
	assert.Equal(t, 1, testutil.CollectAndCount(c, "brook_socket_sent_messages_total"))
	require.NoError(t, c.AddJournal("j", &fakeJournal{}))
	require.ErrorIs(t, c.AddJournal("j", &fakeJournal{}), metrics.ErrDuplicateName)
	assert.False(t, c.RemoveJournal("k"))
}

// Real sockets and a real journal: the values follow what happened.
func TestRealSources(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pull, err := socket.New(socket.Pull)
	require.NoError(t, err)
	defer pull.Close()
	require.NoError(t, pull.Bind("inproc://metrics-real"))
	push, err := socket.New(socket.Push)
	require.NoError(t, err)
	defer push.Close()
	require.NoError(t, push.Connect("inproc://metrics-real"))
	for i := 0; i < 5; i++ {
		require.NoError(t, push.Send(ctx, socket.NewMsg([]byte("m"))))
	}
	for i := 0; i < 3; i++ {
		_, err := pull.Recv(ctx)
		require.NoError(t, err)
	}
	l, err := durable.Open(t.TempDir())
	require.NoError(t, err)
	defer l.Close()
	for i := 0; i < 4; i++ {
		_, err := l.Append(ctx, []byte("rec"))
		require.NoError(t, err)
	}
	cur, err := l.Cursor("c")
	require.NoError(t, err)
	require.NoError(t, cur.Ack(0))

	c := metrics.New()
	require.NoError(t, c.AddSocket("in", pull))
	require.NoError(t, c.AddSocket("out", push))
	require.NoError(t, c.AddJournal("log", l))
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(c))

	expected := `
# HELP brook_socket_sent_messages_total Messages Send accepted.
# TYPE brook_socket_sent_messages_total counter
brook_socket_sent_messages_total{socket="in",type="PULL"} 0
brook_socket_sent_messages_total{socket="out",type="PUSH"} 5
# HELP brook_socket_received_messages_total Messages Recv returned.
# TYPE brook_socket_received_messages_total counter
brook_socket_received_messages_total{socket="in",type="PULL"} 3
brook_socket_received_messages_total{socket="out",type="PUSH"} 0
# HELP brook_journal_end_offset Offset the next append gets.
# TYPE brook_journal_end_offset gauge
brook_journal_end_offset{journal="log"} 4
# HELP brook_journal_cursor_lag_records End offset minus the cursor's ack floor.
# TYPE brook_journal_cursor_lag_records gauge
brook_journal_cursor_lag_records{cursor="c",journal="log"} 3
`
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(expected),
		"brook_socket_sent_messages_total", "brook_socket_received_messages_total", "brook_journal_end_offset", "brook_journal_cursor_lag_records"))

	// Both ends of the inproc connection are one pipe each, connected,
	// with the peer's type; the PULL's pipe read all 5 messages.
	out, err := testutil.GatherAndFormat(reg, expfmt.TypeTextPlain, "brook_peer_connected", "brook_peer_received_messages_total")
	require.NoError(t, err)
	assert.Regexp(t, `brook_peer_connected\{endpoint="inproc://metrics-real",peer="\d+",peer_type="PUSH",socket="in",type="PULL"\} 1`, string(out))
	assert.Regexp(t, `brook_peer_connected\{endpoint="inproc://metrics-real",peer="\d+",peer_type="PULL",socket="out",type="PUSH"\} 1`, string(out))
	assert.Regexp(t, `brook_peer_received_messages_total\{endpoint="inproc://metrics-real",peer="\d+",peer_type="PUSH",socket="in",type="PULL"\} 5`, string(out))
}

// A journaled socket's profile counters are exported; a plain one has none.
func TestJournaledSocketMetrics(t *testing.T) {
	c := metrics.New(metrics.WithPeerMetrics(false))
	st := routerStats()
	st.st.Journal = &socket.JournalStats{Floor: 90, End: 100, InFlight: 4, Delivered: 120, Redelivered: 20,
		Acked: 90, PlainDelivered: 3, DeadLettered: 1, Received: 5, Duplicates: 2, Unacked: 1}
	require.NoError(t, c.AddSocket("jobs", st))
	want := map[string]float64{
		"brook_socket_journal_backlog_messages":      10,
		"brook_socket_journal_in_flight_messages":    4,
		"brook_socket_journal_delivered_total":       120,
		"brook_socket_journal_redelivered_total":     20,
		"brook_socket_journal_acked_total":           90,
		"brook_socket_journal_plain_delivered_total": 3,
		"brook_socket_journal_dead_lettered_total":   1,
		"brook_socket_journal_duplicates_total":      2,
		"brook_socket_journal_unacked_messages":      1,
	}
	got := gathered(t, c)
	for name, v := range want {
		assert.Equal(t, v, got[name], name)
	}
	problems, err := testutil.CollectAndLint(c)
	require.NoError(t, err)
	assert.Empty(t, problems)

	plain := metrics.New()
	require.NoError(t, plain.AddSocket("api", routerStats()))
	_, has := gathered(t, plain)["brook_socket_journal_acked_total"]
	assert.False(t, has, "a socket without the profile exports none of its metrics")
}

// gathered scrapes c once and returns each metric's value by name (the
// last series of each family: enough for one socket).
func gathered(t *testing.T, c *metrics.Collector) map[string]float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(c))
	fams, err := reg.Gather()
	require.NoError(t, err)
	out := map[string]float64{}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			switch {
			case m.GetCounter() != nil:
				out[f.GetName()] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[f.GetName()] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}
