package patterns

import (
	"context"
	"sync"

	"github.com/brookmq/brook/transport"
)

// pub is PUB and XPUB: every message goes to each subscriber holding a
// prefix of its first frame, without ever blocking. A subscriber whose
// queue is at its high-water mark misses the message (DropHWM, counted
// per subscriber); a message no subscriber wants is counted as DropNoPeer
// (libzmq drops both silently; brook counts, so a publisher sending into
// the void shows up in Stats). Subscriptions arrive from the peers as
// ZMTP 3.0 messages (the transport converts 3.1 commands), are held per
// subscriber as a set (the subscriber counts its own), and are forgotten
// when the subscriber's connection ends: a reconnecting subscriber sends
// its whole set again. Every matching subscriber is given the same frames,
// not copies (over inproc, receivers share them and must not modify
// them).
//
// XPUB also hands subscription messages to the application (Recv returns
// 0x01+topic or 0x00+topic): only a topic's first subscription and last
// cancellation across all subscribers, every subscription with
// XPubVerbose, every cancellation too with XPubVerboser. Messages from
// peers that are not subscriptions (an XSUB sending upstream) are passed
// to the application as they are. In manual mode (XPubManual) every
// subscription message is passed on and none is applied: the application
// applies the ones it wants with Subscribe and Unsubscribe, which act on
// the subscriber of the subscription message Recv returned last.
//
// An XPUB's messages for the application count against the receive
// high-water mark like any socket's: once a subscriber has that many
// waiting, its connection is not read until the application takes one,
// so its later subscriptions come into force only then (libzmq's XPUB
// reads them all and queues the messages for the application without a
// bound). Sends never wait for that: a PUB's Send does not block.
type pub struct {
	cfg Config
	x   bool
	fq  *fairQueue // XPUB: messages for the application

	mu      sync.Mutex
	subs    mtrie[*pubPeer]
	peers   map[uint64]*pubPeer
	epoch   uint64       // marks the subscribers a message matched, when several prefixes did
	matched []*pubPeer   // the subscribers matched, deduplicated (Send's, kept for its capacity)
	lists   [][]*pubPeer // the holder lists of the matching prefixes (Send's, likewise)
	last    *pubPeer     // XPUB manual: sender of the last subscription Recv returned (may have left)
	closed  bool
}

// pubPeer is one subscriber.
type pubPeer struct {
	p      Pipe
	topics map[string]struct{} // prefixes it holds in subs
	asked  map[string]int      // manual mode: subscriptions it asked for
	mark   uint64              // epoch of the last Send that deduplicated it
}

// xpub is XPUB: a pub whose application also receives, and in manual
// mode subscribes on behalf of its subscribers.
type xpub struct{ *pub }

func newPub(cfg Config) *pub   { return newPubOf(cfg, false) }
func newXPub(cfg Config) *xpub { return &xpub{newPubOf(cfg, true)} }

func newPubOf(cfg Config, x bool) *pub {
	if cfg.XPubVerboser {
		cfg.XPubVerbose = true
	}
	s := &pub{cfg: cfg, x: x, peers: make(map[uint64]*pubPeer)}
	if x {
		s.fq = newFairQueue(cfg.RecvHWM)
	}
	return s
}

func (s *pub) Attach(p Pipe) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.peers[p.ID()] == nil {
		s.peers[p.ID()] = &pubPeer{p: p, topics: make(map[string]struct{})}
	}
}

// Connected sends the XPUB welcome message to the new subscriber.
func (s *pub) Connected(p Pipe) {
	if !s.x || s.cfg.XPubWelcome == nil {
		return
	}
	m := Msg{Frames: [][]byte{append([]byte{}, s.cfg.XPubWelcome...)}}
	if !p.TrySend(m) {
		s.cfg.drop(p, m, DropHWM)
	}
}

// Disconnected forgets the subscriber's subscriptions: on reconnection
// it sends them all again, and in between it must get nothing.
func (s *pub) Disconnected(p Pipe) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sp := s.peers[p.ID()]; sp != nil {
		s.forgetLocked(sp)
	}
}

func (s *pub) Detach(p Pipe) {
	s.mu.Lock()
	sp := s.peers[p.ID()]
	if sp != nil {
		s.forgetLocked(sp)
		delete(s.peers, p.ID())
	}
	s.mu.Unlock()
	if s.fq != nil {
		s.fq.Remove(p)
	}
}

// forgetLocked removes every subscription of sp; an XPUB tells the
// application of each topic nobody holds any more (of all of them with
// XPubVerboser), or in manual mode of each subscription sp had asked for.
func (s *pub) forgetLocked(sp *pubPeer) {
	for t := range sp.topics {
		_, last := s.subs.Remove([]byte(t), sp)
		if s.x && !s.cfg.XPubManual && (last || s.cfg.XPubVerboser) {
			s.fq.Inject(sp.p, transport.SubscriptionMsg([]byte(t), false))
		}
	}
	clear(sp.topics)
	if s.x && s.cfg.XPubManual {
		for t, n := range sp.asked {
			for range n {
				s.fq.Inject(sp.p, transport.SubscriptionMsg([]byte(t), false))
			}
		}
		clear(sp.asked)
	}
}

func (s *pub) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	if s.fq != nil {
		s.fq.Close()
	}
}

// Send delivers m to every matching subscriber that has room. It never
// blocks.
func (s *pub) Send(_ context.Context, m Msg) error {
	var first []byte
	if len(m.Frames) > 0 {
		first = m.Frames[0]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return transport.ErrClosed
	}
	lists := s.subs.Lists(first, s.lists[:0])
	switch len(lists) {
	case 0:
		s.cfg.drop(nil, m, DropNoPeer)
	case 1:
		// One matching prefix: its holders are distinct subscribers, so
		// they need no deduplication.
		s.deliver(lists[0], m)
	default:
		s.epoch++
		matched := s.matched[:0]
		for _, l := range lists {
			for _, sp := range l {
				if sp.mark != s.epoch {
					sp.mark = s.epoch
					matched = append(matched, sp)
				}
			}
		}
		s.deliver(matched, m)
		clear(matched)
		s.matched = matched[:0]
	}
	clear(lists)
	s.lists = lists[:0]
	return nil
}

// deliver gives m to each subscriber in sps that has room.
func (s *pub) deliver(sps []*pubPeer, m Msg) {
	for _, sp := range sps {
		if !sp.p.TrySend(m) {
			s.cfg.drop(sp.p, m, DropHWM)
		}
	}
}

// Inbound applies a subscription message from p. A PUB drops anything
// else (DropUnexpected); an XPUB passes it to the application.
func (s *pub) Inbound(ctx context.Context, p Pipe, m Msg, tag Tag) error {
	topic, subscribe, ok := transport.ParseSubscription(m)
	if !ok {
		if !s.x {
			s.cfg.dropIn(p, m, tag, DropUnexpected)
			return nil
		}
		return s.fq.Push(ctx, p, m, tag)
	}
	s.mu.Lock()
	sp := s.peers[p.ID()]
	if sp == nil || s.closed {
		s.mu.Unlock()
		s.cfg.dropIn(p, m, tag, DropUnexpected)
		return nil
	}
	pass := s.x
	switch {
	case s.x && s.cfg.XPubManual:
		if sp.asked == nil {
			sp.asked = make(map[string]int)
		}
		if subscribe {
			sp.asked[string(topic)]++
		} else if sp.asked[string(topic)] > 1 {
			sp.asked[string(topic)]--
		} else {
			delete(sp.asked, string(topic))
		}
	case subscribe:
		added, first := s.subs.Add(topic, sp)
		if added {
			sp.topics[string(topic)] = struct{}{}
		}
		pass = pass && (first || s.cfg.XPubVerbose)
	default:
		removed, last := s.subs.Remove(topic, sp)
		if removed {
			delete(sp.topics, string(topic))
		}
		pass = pass && removed && (last || s.cfg.XPubVerboser)
	}
	s.mu.Unlock()
	if !pass {
		return nil
	}
	return s.fq.Push(ctx, p, m, tag)
}

// Unread is the number of messages (subscriptions, upstream data) the
// application has not taken.
func (s *xpub) Unread() int { return s.fq.Len() }

// Recv returns the next message for the application: subscription
// messages, or what peers sent upstream.
func (s *xpub) Recv(ctx context.Context) (Received, error) {
	r, err := s.fq.Pop(ctx)
	if err != nil {
		return Received{}, err
	}
	if _, _, ok := transport.ParseSubscription(r.Msg); ok && s.cfg.XPubManual {
		s.mu.Lock()
		s.last = s.peers[r.Pipe.ID()]
		if s.last == nil {
			// Its sender has left: decisions about it apply to nothing.
			s.last = &pubPeer{p: r.Pipe}
		}
		s.mu.Unlock()
	}
	return r, nil
}

// Subscribe, in manual mode, gives topic to the subscriber whose
// subscription message Recv returned last.
func (s *xpub) Subscribe(topic []byte) error { return s.manual(topic, true) }

// Unsubscribe, in manual mode, takes topic away from the subscriber whose
// subscription message Recv returned last.
func (s *xpub) Unsubscribe(topic []byte) error { return s.manual(topic, false) }

// manual applies an application's decision. Without manual mode it fails
// with ErrNotSupported. With no subscription received yet it fails with
// ErrState; if that subscriber has gone meanwhile there is nothing to
// apply and it returns nil.
func (s *xpub) manual(topic []byte, subscribe bool) error {
	if !s.cfg.XPubManual {
		return ErrNotSupported
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return transport.ErrClosed
	}
	sp := s.last
	if sp == nil {
		return ErrState
	}
	if s.peers[sp.p.ID()] != sp {
		return nil
	}
	if subscribe {
		if added, _ := s.subs.Add(topic, sp); added {
			sp.topics[string(topic)] = struct{}{}
		}
		return nil
	}
	if removed, _ := s.subs.Remove(topic, sp); removed {
		delete(sp.topics, string(topic))
	}
	return nil
}
