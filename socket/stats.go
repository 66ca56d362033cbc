package socket

import (
	"sort"
	"sync/atomic"

	"github.com/brookmq/brook/patterns"
	"github.com/brookmq/brook/transport"
)

// DropReason says why a message was dropped.
type DropReason = patterns.DropReason

// Drop reasons (see patterns.DropReason).
const (
	DropHWM        = patterns.DropHWM
	DropNoPeer     = patterns.DropNoPeer
	DropPeerGone   = patterns.DropPeerGone
	DropUnexpected = patterns.DropUnexpected
	DropUnread     = patterns.DropUnread
)

// Stats is a snapshot of a socket's counters.
type Stats struct {
	// Sent counts messages Send accepted; Received messages Recv returned.
	Sent, Received uint64
	// Dropped counts dropped messages by reason. No drop is silent.
	Dropped map[DropReason]uint64
	// MonitorMissed counts events monitor subscribers were too slow for.
	MonitorMissed uint64
	// Peers has one entry per pipe, ordered by ID.
	Peers []PeerStats
	// Journal has the journal profile's counters: a journaled sender's
	// and, on a socket that receives, what came from journaled senders.
	// Nil on a socket that neither sends from a journal nor receives.
	Journal *JournalStats
}

// JournalStats are the counters of the journal profile (see the package
// documentation on journaled sockets).
type JournalStats struct {
	// Sender side (WithJournal).

	// ID and Epoch identify the socket's journal (zero without one).
	ID    [16]byte
	Epoch uint64
	// Floor is the first offset not acknowledged yet: every message below
	// it was acknowledged (or dead-lettered, or lost and reported); End is
	// the journal's end. End-Floor is the backlog.
	Floor, End uint64
	// InFlight counts messages delivered and not acknowledged yet, Delayed
	// messages waiting for their NotBefore time.
	InFlight, Delayed int
	// Delivered counts deliveries (Redelivered those after the first),
	// Acked acknowledgements, Nacked negative ones, TimedOut deliveries
	// taken back after the ack timeout.
	Delivered, Redelivered, Acked, Nacked, TimedOut uint64
	// PlainDelivered counts messages handed to peers that do not speak the
	// journal profile (libzmq, ...): delivered at most once, acknowledged
	// on hand-over (a journaled PUB or XPUB: messages it fanned out live
	// while such a subscriber was connected).
	PlainDelivered uint64
	// DeadLettered counts messages moved to the dead-letter journal; Lost
	// messages deleted by retention before anyone acknowledged them (queue)
	// or before a resuming subscriber read them (stream).
	DeadLettered, Lost uint64
	// Streamed counts messages a journaled PUB or XPUB sent from its
	// journal to subscribers that speak the profile, Filtered the offsets
	// their filters passed over; Subscribers is how many it serves so.
	Streamed, Filtered uint64
	Subscribers        int

	// Receiver side.

	// Received counts journaled messages that arrived, Duplicates those
	// dropped as already acknowledged or already held by the application.
	Received, Duplicates uint64
	// AckedHere and NackedHere count this socket's acknowledgements;
	// Unacked is what the application holds unacknowledged now.
	AckedHere, NackedHere uint64
	Unacked               int
	// StoreOverflow counts acknowledged ranges the dedup store could not
	// keep (too fragmented): after a restart those messages may be passed
	// to the application again.
	StoreOverflow uint64
	// Gaps counts messages a resuming subscriber asked for that were gone
	// (reported as EventJournalGap).
	Gaps uint64
}

// PeerStats are the counters of one pipe (one peer, or one connecting
// endpoint across its reconnections).
type PeerStats struct {
	ID       uint64
	Endpoint string
	Remote   string
	Peer     transport.PeerInfo
	// Connected says whether a connection is up right now.
	Connected bool
	// Queued is the number of messages waiting in the send queue.
	Queued int
	// Sent counts messages written to the connection; Received messages
	// read from it.
	Sent, Received uint64
	// Connections counts successful handshakes on this pipe.
	Connections uint64
}

type counters struct {
	sent, received atomic.Uint64
	dropped        [patterns.NumDropReasons]atomic.Uint64
}

func (c *counters) drop(r DropReason, n int) {
	if int(r) >= 0 && int(r) < len(c.dropped) {
		c.dropped[r].Add(uint64(n))
	}
}

// Stats returns a snapshot of the socket's counters.
func (s *Socket) Stats() Stats {
	st := Stats{
		Sent:     s.ctr.sent.Load(),
		Received: s.ctr.received.Load(),
		Dropped:  make(map[DropReason]uint64),
	}
	for r := range s.ctr.dropped {
		if n := s.ctr.dropped[r].Load(); n > 0 {
			st.Dropped[DropReason(r)] = n
		}
	}
	s.mon.mu.Lock()
	st.MonitorMissed = s.mon.missed
	s.mon.mu.Unlock()
	s.mu.Lock()
	for _, p := range s.pipes {
		st.Peers = append(st.Peers, p.stats())
	}
	s.mu.Unlock()
	sort.Slice(st.Peers, func(i, j int) bool { return st.Peers[i].ID < st.Peers[j].ID })
	st.Journal = s.journalStats()
	return st
}
