// Package metrics exposes brook's counters to Prometheus: a
// prometheus.Collector that reads the Stats of the sockets and journals
// added to it at every scrape.
//
//	c := metrics.New()
//	c.AddSocket("orders-in", pull)           // any *socket.Socket
//	c.AddJournal("orders", log)              // optional: any *durable.Log
//	reg := prometheus.NewRegistry()
//	reg.MustRegister(c)
//	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//
// The package is optional: only programs that import it link
// github.com/prometheus/client_golang. Nothing is counted twice and
// nothing runs between scrapes: every value is a snapshot taken by
// Socket.Stats or Log.Stats while Collect runs.
//
// # Socket metrics
//
// Every socket metric has the labels socket (the name given to AddSocket)
// and type (the socket type: PUSH, ROUTER, ...).
//
//	metric                                    kind     extra labels  meaning
//	brook_socket_sent_messages_total          counter                messages Send accepted
//	brook_socket_received_messages_total      counter                messages Recv returned
//	brook_socket_dropped_messages_total       counter  reason        messages dropped, by reason (below)
//	brook_socket_monitor_missed_events_total  counter                monitor events a slow subscriber missed
//	brook_socket_peers                        gauge                  pipes: connected peers, and connecting endpoints
//	brook_socket_connected_peers              gauge                  pipes with a connection up right now
//
// The reason label takes the values of socket.DropReason's String: hwm (a
// PUB or ROUTER peer at its high-water mark), no-peer (no subscriber or no
// such routing id), peer-gone (queued for a peer that left), unexpected
// (an inbound message the pattern cannot accept) and unread (received but
// never read before Close). Every reason is exported, zero or not, so that
// rate() sees a series from the start.
//
// # Peer metrics
//
// One series per pipe (a peer, or a connecting endpoint across its
// reconnections), with the labels socket, type, peer (the pipe's id, as in
// PeerStats.ID and Event.PeerID), endpoint (the bound or connected
// endpoint) and peer_type (the socket type the peer announced; empty until
// its first handshake).
//
//	metric                              kind     meaning
//	brook_peer_connected                gauge    1 while a connection is up, else 0
//	brook_peer_queued_messages          gauge    messages waiting in the send queue
//	brook_peer_sent_messages_total      counter  messages written to the connection
//	brook_peer_received_messages_total  counter  messages read from the connection
//	brook_peer_connections_total        counter  successful handshakes on this pipe
//
// A bound socket gets a new pipe (and a new peer label value) for every
// accepted connection, so a server with many short-lived clients makes
// many short series. WithPeerMetrics(false) leaves the peer metrics out;
// the socket totals stay.
//
// # Journaled socket metrics
//
// Sockets that take part in the journal profile (see package socket:
// journaled senders, and receivers of journaled messages) also export,
// with the labels socket and type, the counters of Stats().Journal:
//
//	metric                                       kind     meaning
//	brook_socket_journal_backlog_messages        gauge    not acknowledged yet (end minus the acknowledgement floor)
//	brook_socket_journal_in_flight_messages      gauge    delivered, not acknowledged yet
//	brook_socket_journal_delayed_messages        gauge    waiting for their NotBefore time
//	brook_socket_journal_delivered_total         counter  deliveries, redeliveries included
//	brook_socket_journal_redelivered_total       counter  deliveries after a message's first
//	brook_socket_journal_acked_total             counter  acknowledgements received
//	brook_socket_journal_nacked_total            counter  negative acknowledgements received
//	brook_socket_journal_timed_out_total         counter  deliveries taken back after the ack timeout
//	brook_socket_journal_plain_delivered_total   counter  handed at most once to peers without the profile
//	brook_socket_journal_dead_lettered_total     counter  moved to the dead-letter journal
//	brook_socket_journal_lost_total              counter  deleted by retention before being acknowledged or read
//	brook_socket_journal_streamed_total          counter  a publisher's messages sent from its journal
//	brook_socket_journal_filtered_total          counter  offsets subscriber filters passed over
//	brook_socket_journal_subscribers             gauge    subscribers a publisher serves from its journal
//	brook_socket_journal_received_total          counter  journaled messages that arrived (receiver)
//	brook_socket_journal_duplicates_total        counter  of those, dropped as duplicates
//	brook_socket_journal_unacked_messages        gauge    held by the application unacknowledged
//	brook_socket_journal_gap_messages_total      counter  asked for by a resuming subscriber but gone
//
// # Journal metrics
//
// Every journal metric has the label journal (the name given to
// AddJournal).
//
//	metric                                       kind     extra labels          meaning
//	brook_journal_info                           gauge    id, sync, read_only   always 1: the journal's identity and sync mode
//	brook_journal_first_offset                   gauge                          oldest retained offset
//	brook_journal_end_offset                     gauge                          offset the next append gets
//	brook_journal_durable_end_offset             gauge                          end of what is fsynced
//	brook_journal_size_bytes                     gauge                          total size of the segment files
//	brook_journal_segments                       gauge                          number of segment files
//	brook_journal_syncs_total                    counter                        fdatasyncs of appended data since Open
//	brook_journal_last_record_timestamp_seconds  gauge                          time of the newest record (absent while empty)
//	brook_journal_cursor_offset                  gauge    cursor                the cursor's ack floor
//	brook_journal_cursor_lag_records             gauge    cursor                end offset minus the ack floor
//
// end_offset minus durable_end_offset is what a crash could still take
// away (non-zero only between a write and its fsync, or always with the
// Interval and None sync modes); cursor_lag_records is a consumer's
// backlog, as Kafka's consumer lag.
package metrics
