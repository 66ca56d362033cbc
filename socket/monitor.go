package socket

import (
	"fmt"
	"sync"
	"time"

	"github.com/brookmq/brook/transport"
)

// EventType says what happened to a socket's endpoints or connections.
type EventType int

// Event types, in the spirit of libzmq's zmq_socket_monitor.
const (
	// EventListening: Bind succeeded.
	EventListening EventType = iota + 1
	// EventBindFailed: Bind failed.
	EventBindFailed
	// EventAccepted: a listener accepted a connection (handshake pending).
	EventAccepted
	// EventAcceptFailed: a listener's Accept failed.
	EventAcceptFailed
	// EventConnected: a dial succeeded (handshake pending).
	EventConnected
	// EventConnectDelayed: a dial failed; it will be retried.
	EventConnectDelayed
	// EventConnectRetried: a new dial attempt starts after a failure or a
	// disconnection.
	EventConnectRetried
	// EventHandshakeSucceeded: a peer completed its handshake and joined.
	EventHandshakeSucceeded
	// EventHandshakeFailed: a handshake failed (Err says why: timeout,
	// incompatible socket types, protocol error ...).
	EventHandshakeFailed
	// EventDisconnected: an established connection ended (Err says why).
	EventDisconnected
	// EventClosed: a listener was closed.
	EventClosed
	// EventDropped: messages were dropped (Count and Reason say how many
	// and why).
	EventDropped
	// EventRejected: a peer was refused after its handshake (a second
	// PAIR peer).
	EventRejected
	// EventDeadLetter: a journaled sender gave up on a message after
	// WithMaxDeliveries deliveries and moved it to its dead-letter journal
	// (Err says which and why).
	EventDeadLetter
	// EventJournalGap: messages a journaled socket should have delivered
	// are gone (deleted by retention before anyone acknowledged them, or
	// older than a resuming subscriber's position); Count says how many,
	// Err why. Also a journal that cannot be read (Err), retried later.
	EventJournalGap
	// EventJournalChanged: a resuming subscriber found that a publisher's
	// journal is not the one it had a position in (a new journal id), or
	// no longer has records it had delivered (Err says which).
	EventJournalChanged
)

var eventNames = map[EventType]string{
	EventListening: "listening", EventBindFailed: "bind-failed",
	EventAccepted: "accepted", EventAcceptFailed: "accept-failed",
	EventConnected: "connected", EventConnectDelayed: "connect-delayed",
	EventConnectRetried: "connect-retried", EventHandshakeSucceeded: "handshake-succeeded",
	EventHandshakeFailed: "handshake-failed", EventDisconnected: "disconnected",
	EventClosed: "closed", EventDropped: "dropped", EventRejected: "rejected",
	EventDeadLetter: "dead-letter", EventJournalGap: "journal-gap", EventJournalChanged: "journal-changed",
}

func (t EventType) String() string {
	if s, ok := eventNames[t]; ok {
		return s
	}
	return fmt.Sprintf("EventType(%d)", int(t))
}

// Event is one monitor event.
type Event struct {
	Type EventType
	Time time.Time
	// Endpoint is the bound or connected endpoint concerned.
	Endpoint string
	// Remote is the peer's address, where known.
	Remote string
	// Peer is what the peer announced (handshake-succeeded and later).
	Peer transport.PeerInfo
	// PeerID identifies the peer's pipe in Stats.
	PeerID uint64
	// Err is the cause of a failure, drop or disconnection.
	Err error
	// Reason and Count describe an EventDropped.
	Reason DropReason
	Count  int
	// Retry is the wait before the next attempt (connect-delayed,
	// connect-retried).
	Retry time.Duration
}

func (e Event) String() string {
	s := fmt.Sprintf("%s %s", e.Type, e.Endpoint)
	if e.Remote != "" {
		s += " remote=" + e.Remote
	}
	if e.Err != nil {
		s += " err=" + e.Err.Error()
	}
	if e.Type == EventDropped {
		s += fmt.Sprintf(" reason=%s count=%d", e.Reason, e.Count)
	}
	return s
}

// monitor fans events out to subscribers without ever blocking the socket:
// an event a full subscriber cannot take is counted as missed.
type monitor struct {
	mu     sync.Mutex
	subs   map[int]chan Event
	nextID int
	buf    int
	missed uint64
}

// Monitor subscribes to the socket's events. The channel is closed when
// stop is called or the socket closes. A subscriber that falls more than
// WithMonitorBuffer events behind misses events (counted in
// Stats.MonitorMissed); the socket never waits for it.
func (s *Socket) Monitor() (events <-chan Event, stop func()) {
	m := &s.mon
	m.mu.Lock()
	defer m.mu.Unlock()
	ch := make(chan Event, m.buf)
	if m.subs == nil {
		// Closed socket: a closed channel.
		close(ch)
		return ch, func() {}
	}
	id := m.nextID
	m.nextID++
	m.subs[id] = ch
	return ch, func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		if c, ok := m.subs[id]; ok {
			delete(m.subs, id)
			close(c)
		}
	}
}

func (m *monitor) emit(e Event) {
	e.Time = time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, ch := range m.subs {
		select {
		case ch <- e:
		default:
			m.missed++
		}
	}
}

func (m *monitor) close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, ch := range m.subs {
		close(ch)
		delete(m.subs, id)
	}
	m.subs = nil
}
