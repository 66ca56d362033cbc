package patterns

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"sync"

	"github.com/brookmq/brook/transport"
)

// router is ROUTER. Each connected peer has a routing id: the Identity
// it announced, or else one generated as libzmq does (5 bytes: 0x00 then
// a 32-bit big-endian counter starting at a random value). Received
// messages get the sender's id prepended as a first frame; Send takes the
// first frame as the id and sends the rest to that peer.
//
// A message for an id no connected peer has is dropped (DropNoPeer), or
// fails with ErrHostUnreachable with RouterMandatory. A message for a peer
// whose queue is full is dropped (DropHWM); with RouterMandatory Send
// waits for room instead, until ctx ends (libzmq's blocking send; its
// EAGAIN is our ctx error), failing with ErrHostUnreachable if the peer
// leaves meanwhile. A message with fewer than two frames fails with
// ErrBadMsg.
//
// A peer announcing an id already in use is refused at admission (the
// socket closes its connection with an EventRejected), as libzmq does;
// with RouterHandover it takes the id over, and the previous holder gets
// a generated id and, if its pipe implements Disconnecter, loses its
// connection. A connecting pipe's id lives from its handshake to its
// disconnection and is worked out again at each reconnection.
type router struct {
	cfg Config
	fq  *fairQueue

	// mu is read-locked on the paths taken per message (Send, Inbound),
	// so the peers' readers and the application never wait for each
	// other there; peers joining and leaving write-lock it.
	mu     sync.RWMutex
	byID   map[string]*routerPeer
	byPipe map[uint64]*routerPeer
	next   uint32
	wake   chan struct{} // closed when a peer becomes writable, leaves or joins
	closed bool
}

type routerPeer struct {
	p  Pipe
	id []byte // nil while not connected
}

func newRouter(cfg Config) *router {
	return &router{
		cfg:    cfg,
		fq:     newFairQueue(cfg.RecvHWM),
		byID:   make(map[string]*routerPeer),
		byPipe: make(map[uint64]*routerPeer),
		next:   rand.Uint32(),
		wake:   make(chan struct{}),
	}
}

// Accepts refuses a peer announcing a routing id another peer holds,
// unless RouterHandover.
func (s *router) Accepts(p Pipe) bool {
	id := p.Peer().Identity
	if len(id) == 0 || s.cfg.RouterHandover {
		return true
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	rp := s.byID[string(id)]
	return rp == nil || rp.p.ID() == p.ID()
}

func (s *router) Attach(p Pipe) {
	s.mu.Lock()
	if s.byPipe[p.ID()] == nil {
		s.byPipe[p.ID()] = &routerPeer{p: p}
	}
	s.mu.Unlock()
}

// Connected gives p its routing id for this connection.
func (s *router) Connected(p Pipe) {
	var evicted Pipe
	s.mu.Lock()
	rp := s.byPipe[p.ID()]
	if rp == nil {
		rp = &routerPeer{p: p}
		s.byPipe[p.ID()] = rp
	}
	s.unrouteLocked(rp)
	id := p.Peer().Identity
	if len(id) > 0 {
		if holder := s.byID[string(id)]; holder != nil {
			if s.cfg.RouterHandover {
				// The holder keeps talking under a generated id until its
				// connection ends.
				s.unrouteLocked(holder)
				s.routeLocked(holder, s.generateLocked())
				evicted = holder.p
			} else {
				// Two peers raced through admission with one id: the
				// later one gets a generated id.
				id = nil
			}
		}
	}
	if len(id) == 0 {
		id = s.generateLocked()
	}
	s.routeLocked(rp, append([]byte(nil), id...))
	s.wakeLocked()
	s.mu.Unlock()
	if d, ok := evicted.(Disconnecter); ok {
		d.DisconnectPeer()
	}
}

func (s *router) routeLocked(rp *routerPeer, id []byte) {
	rp.id = id
	s.byID[string(id)] = rp
}

func (s *router) unrouteLocked(rp *routerPeer) {
	if rp.id != nil {
		if s.byID[string(rp.id)] == rp {
			delete(s.byID, string(rp.id))
		}
		rp.id = nil
	}
}

// generateLocked returns the next unused generated id.
func (s *router) generateLocked() []byte {
	for {
		s.next++
		id := binary.BigEndian.AppendUint32([]byte{0}, s.next)
		if s.byID[string(id)] == nil {
			return id
		}
	}
}

func (s *router) wakeLocked() {
	close(s.wake)
	s.wake = make(chan struct{})
}

// Disconnected makes p unroutable until it reconnects.
func (s *router) Disconnected(p Pipe) {
	s.mu.Lock()
	if rp := s.byPipe[p.ID()]; rp != nil {
		s.unrouteLocked(rp)
	}
	s.wakeLocked()
	s.mu.Unlock()
}

func (s *router) Detach(p Pipe) {
	s.mu.Lock()
	if rp := s.byPipe[p.ID()]; rp != nil {
		s.unrouteLocked(rp)
		delete(s.byPipe, p.ID())
	}
	s.wakeLocked()
	s.mu.Unlock()
	s.fq.Remove(p)
}

func (s *router) Writable(Pipe) {
	s.mu.Lock()
	s.wakeLocked()
	s.mu.Unlock()
}

func (s *router) Close() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		s.wakeLocked()
	}
	s.mu.Unlock()
	s.fq.Close()
}

// Send routes m by its first frame.
func (s *router) Send(ctx context.Context, m Msg) error {
	if len(m.Frames) < 2 {
		return ErrBadMsg
	}
	out := Msg{Frames: m.Frames[1:]}
	for {
		s.mu.RLock()
		if s.closed {
			s.mu.RUnlock()
			return transport.ErrClosed
		}
		rp := s.byID[string(m.Frames[0])]
		if rp == nil {
			s.mu.RUnlock()
			if s.cfg.RouterMandatory {
				return ErrHostUnreachable
			}
			s.cfg.drop(nil, m, DropNoPeer)
			return nil
		}
		if rp.p.TrySend(out) {
			s.mu.RUnlock()
			return nil
		}
		if !s.cfg.RouterMandatory {
			s.mu.RUnlock()
			s.cfg.drop(rp.p, out, DropHWM)
			return nil
		}
		wake := s.wake
		s.mu.RUnlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Unread is the number of received messages the application has not
// taken.
func (s *router) Unread() int { return s.fq.Len() }

func (s *router) Recv(ctx context.Context) (Received, error) { return s.fq.Pop(ctx) }

// Inbound queues m with the sender's routing id in front.
func (s *router) Inbound(ctx context.Context, p Pipe, m Msg, tag Tag) error {
	s.mu.RLock()
	var id []byte
	if rp := s.byPipe[p.ID()]; rp != nil {
		id = rp.id // never changed in place: copied below, unlocked
	}
	s.mu.RUnlock()
	if id == nil {
		s.cfg.dropIn(p, m, tag, DropUnexpected)
		return nil
	}
	return s.fq.Push(ctx, p, Msg{Frames: withID(id, m.Frames)}, tag)
}

// shortID is the longest routing id withID copies into the frame list's
// allocation (generated ids have 5 bytes).
const shortID = 8

// withID returns a copy of id followed by frames. For the usual shapes, a
// short id before one frame (DEALER) or two (REQ's delimiter and body),
// the list and the copy are one allocation.
func withID(id []byte, frames [][]byte) [][]byte {
	if len(id) <= shortID {
		switch len(frames) {
		case 1:
			b := new(struct {
				f  [2][]byte
				id [shortID]byte
			})
			n := copy(b.id[:], id)
			b.f = [2][]byte{b.id[:n:n], frames[0]}
			return b.f[:]
		case 2:
			b := new(struct {
				f  [3][]byte
				id [shortID]byte
			})
			n := copy(b.id[:], id)
			b.f = [3][]byte{b.id[:n:n], frames[0], frames[1]}
			return b.f[:]
		}
	}
	out := make([][]byte, 0, len(frames)+1)
	out = append(out, append([]byte(nil), id...))
	return append(out, frames...)
}
