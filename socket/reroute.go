package socket

import (
	"errors"

	"github.com/brookmq/brook/transport"
)

// Where a pipe's unsent messages go when its connection ends.
//
// An accepted pipe dies with its connection. PUSH and DEALER hand what it
// still had queued (never written, or written but not flushed when the
// connection failed) back to the pattern, which routes it to the other
// peers like any message: Send's rules apply, so it waits while every
// peer is at its high-water mark, or until one connects. Other types drop
// it as DropPeerGone: a PUB's copies were that subscriber's, a ROUTER's
// messages named that peer, a REQ's request belongs to its round trip
// with that peer, a PAIR has no other peer. (libzmq drops them all.)
//
// A connecting pipe keeps its queue for the reconnect, as in libzmq
// without IMMEDIATE: a peer that restarts gets what was sent to it. Not
// when heartbeats declared the peer dead (ErrPeerTimeout) on a PUSH or
// DEALER: then its queue is handed back as above, and the pipe leaves the
// rotation until its next handshake, so new messages do not pile up for
// a peer that may never answer again (a stopped process still accepts
// TCP connections; its handshake then stalls until it times out).
//
// Messages being handed back when the socket closes are dropped as
// DropPeerGone, as they would have been in their pipe.

// deadPeer says whether a connecting pipe whose connection ended with err
// gives up its queue and its place in the rotation until it reconnects.
func (s *Socket) deadPeer(err error) bool {
	return s.typ.ReroutesLostPeer() && errors.Is(err, transport.ErrPeerTimeout)
}

// reroute hands p's queued messages back to the pattern, which routes
// them to the other peers from a goroutine of its own (routing may wait
// for room). p must be detached already, so the pattern cannot give them
// back to it. For types that do not reroute it does nothing, nor for a
// journaled sender: its journal takes back what profile peers had in
// flight, and plain peers get at most once (see the package documentation).
func (s *Socket) reroute(p *pipe) {
	if !s.typ.ReroutesLostPeer() || s.snd == nil || s.jq != nil {
		return
	}
	msgs := p.takeQueued()
	if len(msgs) == 0 {
		return
	}
	s.log.Debug("rerouting a lost peer's queue", "peer", p.id, "endpoint", p.endpoint, "messages", len(msgs))
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for i, m := range msgs {
			if err := s.route(s.ctx, m); err != nil {
				s.dropped(p, DropPeerGone, len(msgs)-i)
				return
			}
		}
	}()
}

// takeQueued removes the data messages from p's queue and returns them,
// oldest first.
func (p *pipe) takeQueued() []Msg {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.flattenLocked()
	msgs := make([]Msg, 0, p.data)
	kept := p.q[:0]
	for _, it := range p.q {
		if it.kind == itemData {
			msgs = append(msgs, it.msg)
		} else {
			kept = append(kept, it)
		}
	}
	clear(p.q[len(kept):])
	p.q, p.data = kept, 0
	return msgs
}
