package patterns

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"sync"

	"github.com/brookmq/brook/transport"
)

// REQ states. A REQ is idle (may send), sending (a Send is choosing a
// peer), or awaiting the reply to the request it sent.
const (
	reqIdle = iota
	reqSending
	reqAwaiting
)

// req is REQ: a request goes round-robin to one peer, prefixed with an
// empty delimiter frame (and, with ReqCorrelate, a 4-byte request id
// before it); then the REQ waits for the reply from that peer only.
// Replies from other peers, replies arriving when no request is
// outstanding and malformed replies are dropped with DropUnexpected.
//
// Strict alternation (the default): Send while a request is outstanding
// and Recv with none outstanding fail with ErrState.
//
// A cancelled Recv (its ctx ends) changes nothing: the request stays
// outstanding and the next Recv can still get its reply. A cancelled or
// failed Send sends nothing and leaves the REQ idle.
//
// If the peer asked disconnects, the REQ goes on waiting, as libzmq's
// does: the reply cannot come unless that peer reconnects with the
// request still known to it. Use Recv's ctx to give up, then either close
// the socket (the lazy pirate pattern) or use ReqRelaxed.
//
// With ReqRelaxed a new Send is allowed at any time; it abandons the
// outstanding request, and a reply to it that was received but not yet
// read is dropped with DropUnexpected, as are late replies (from another
// peer, or with ReqCorrelate from the same peer). Without ReqCorrelate a
// late reply from the same peer cannot be told from the new one.
type req struct {
	cfg Config
	lb  loadBalancer

	mu     sync.Mutex
	state  int
	asked  uint64        // pipe id the outstanding request went to
	id     uint32        // current request id (ReqCorrelate)
	reply  Received      // the reply, received and not yet read (when hasReply)
	has    bool          // reply holds one
	ready  chan struct{} // closed and replaced at a change of state or reply, when waited on
	waits  int           // Recv calls waiting on ready
	early  []reqEarly    // replies that came in while Send was choosing a peer
	spare  reqFrames     // a request's frame list that went out whole, to reuse
	closed bool
	done   chan struct{}
}

// reqFrames is the memory of a request's envelope: its frame list and
// the request id's bytes (ReqCorrelate).
type reqFrames struct {
	list [][]byte
	id   []byte
}

type reqEarly struct {
	p   Pipe
	m   Msg
	tag Tag
}

func newReq(cfg Config) *req {
	return &req{cfg: cfg, id: rand.Uint32(), ready: make(chan struct{}), done: make(chan struct{})}
}

// notifyLocked wakes every Recv waiting for a change. With none waiting
// there is nothing to close, and no channel to make.
func (s *req) notifyLocked() {
	if s.waits == 0 {
		return
	}
	close(s.ready)
	s.ready = make(chan struct{})
}

func (s *req) Attach(p Pipe) { s.lb.Add(p) }
func (s *req) Detach(p Pipe) { s.lb.Remove(p) }
func (s *req) Writable(Pipe) { s.lb.Writable() }

func (s *req) Close() {
	s.lb.Close()
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.done)
	}
	s.mu.Unlock()
}

// Send sends a request, blocking until a peer has room or ctx ends.
func (s *req) Send(ctx context.Context, m Msg) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return transport.ErrClosed
	}
	switch {
	case s.state == reqSending:
		s.mu.Unlock()
		return ErrState
	case s.state == reqAwaiting && !s.cfg.ReqRelaxed:
		s.mu.Unlock()
		return ErrState
	}
	if s.has {
		s.cfg.dropIn(s.reply.Pipe, s.reply.Msg, s.reply.Tag, DropUnexpected)
		s.reply, s.has = Received{}, false
	}
	s.state = reqSending
	s.notifyLocked()
	s.id++
	mem := s.spare
	s.spare = reqFrames{}
	frames := mem.list[:0]
	if cap(frames) < len(m.Frames)+2 {
		frames = make([][]byte, 0, len(m.Frames)+2)
	}
	if s.cfg.ReqCorrelate {
		mem.id = binary.BigEndian.AppendUint32(mem.id[:0], s.id)
		frames = append(frames, mem.id)
	}
	frames = append(frames, []byte{})
	frames = append(frames, m.Frames...)
	mem.list = frames
	s.mu.Unlock()

	out := Msg{Frames: frames}
	p, err := s.lb.Send(ctx, out)
	reuse := err == nil && wroteWhole(p, out)

	s.mu.Lock()
	defer s.mu.Unlock()
	if reuse {
		clear(mem.list) // holds none of the caller's frames
		s.spare = mem
	}
	early := s.early
	s.early = nil
	if err != nil {
		s.state = reqIdle
		s.notifyLocked()
		for _, e := range early {
			s.cfg.dropIn(e.p, e.m, e.tag, DropUnexpected)
		}
		return err
	}
	s.state = reqAwaiting
	s.asked = p.ID()
	for _, e := range early {
		s.acceptLocked(e.p, e.m, e.tag)
	}
	s.notifyLocked()
	return nil
}

// Unread is 1 when a reply has arrived that the application has not
// taken (plus replies still being matched to a Send in progress).
func (s *req) Unread() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.early)
	if s.has {
		n++
	}
	return n
}

// RecvWouldWait reports whether Recv, called now, would wait for a reply
// to arrive: a request is outstanding and no reply to it has been read.
func (s *req) RecvWouldWait() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.closed && s.state == reqAwaiting && !s.has && len(s.early) == 0
}

// Recv waits for the reply to the outstanding request.
func (s *req) Recv(ctx context.Context) (Received, error) {
	s.mu.Lock()
	for {
		if s.has {
			r := s.reply
			s.reply, s.has = Received{}, false
			s.state = reqIdle
			s.mu.Unlock()
			return r, nil
		}
		if s.closed {
			s.mu.Unlock()
			return Received{}, transport.ErrClosed
		}
		if s.state == reqIdle {
			s.mu.Unlock()
			return Received{}, ErrState
		}
		ready := s.ready
		s.waits++
		s.mu.Unlock()
		var err error
		select {
		case <-ready:
		case <-ctx.Done():
			err = ctx.Err()
		case <-s.done:
		}
		s.mu.Lock()
		s.waits--
		if err != nil {
			s.mu.Unlock()
			return Received{}, err
		}
	}
}

// Inbound accepts the reply to the outstanding request.
func (s *req) Inbound(_ context.Context, p Pipe, m Msg, tag Tag) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == reqSending {
		s.early = append(s.early, reqEarly{p: p, m: m, tag: tag})
		return nil
	}
	s.acceptLocked(p, m, tag)
	return nil
}

// acceptLocked takes m as the reply if it is one, or drops it.
func (s *req) acceptLocked(p Pipe, m Msg, tag Tag) {
	if s.state != reqAwaiting || s.has || p.ID() != s.asked {
		s.cfg.dropIn(p, m, tag, DropUnexpected)
		return
	}
	f := m.Frames
	if s.cfg.ReqCorrelate {
		if len(f) < 1 || len(f[0]) != 4 || binary.BigEndian.Uint32(f[0]) != s.id {
			s.cfg.dropIn(p, m, tag, DropUnexpected)
			return
		}
		f = f[1:]
	}
	if len(f) < 2 || len(f[0]) != 0 {
		s.cfg.dropIn(p, m, tag, DropUnexpected)
		return
	}
	s.reply, s.has = Received{Msg: Msg{Frames: f[1:]}, Pipe: p, Tag: tag}, true
	s.notifyLocked()
}

// rep is REP: requests are fair-queued; Recv strips the envelope (every
// frame up to and including the first empty one) and keeps it, and the
// next Send puts it back in front of the reply and sends it to the peer
// the request came from. Strict alternation: Recv while a reply is owed,
// or Send with none owed, fails with ErrState. A request without an empty
// delimiter frame, or without a body after it, is dropped with
// DropUnexpected. A cancelled Recv takes nothing off the queue and leaves
// the REP ready to receive.
//
// Replies never block: a requester that has gone loses its reply
// (DropPeerGone), one whose queue is full too (DropHWM), as in libzmq.
type rep struct {
	cfg Config
	fq  *fairQueue

	mu    sync.Mutex
	state int // repIdle, repReceiving, repReplying
	// mark is fq.Popped() when the receiving Recv last went to the queue:
	// a count past it says that Recv has taken a request and is about
	// to return it (RecvWouldWait).
	mark   uint64
	env    [][]byte
	from   Pipe
	live   map[uint64]bool
	spare  [][]byte // a reply's frame list that went out whole, to reuse
	closed bool
}

const (
	repIdle = iota
	repReceiving
	repReplying
)

func newRep(cfg Config) *rep {
	return &rep{cfg: cfg, fq: newFairQueue(cfg.RecvHWM), live: make(map[uint64]bool)}
}

func (s *rep) Attach(p Pipe) {
	s.mu.Lock()
	s.live[p.ID()] = true
	s.mu.Unlock()
}

func (s *rep) Detach(p Pipe) {
	s.mu.Lock()
	delete(s.live, p.ID())
	s.mu.Unlock()
	s.fq.Remove(p)
}

func (s *rep) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.fq.Close()
}

func (s *rep) Inbound(ctx context.Context, p Pipe, m Msg, tag Tag) error {
	return s.fq.Push(ctx, p, m, tag)
}

// Unread is the number of requests the application has not taken.
func (s *rep) Unread() int { return s.fq.Len() }

// RecvWouldWait reports whether Recv, called now or waiting now, would
// wait for a request to arrive: no reply is owed, none is queued, and a
// waiting Recv has not taken one yet. A Recv that has taken its request
// and not yet said so (it is between the queue's Pop and its state
// change) would not wait: without the mark it looked as if it did, and
// a reader that asked then kept its reading role (inlinerecv.go's
// handOver) until another message came. (A malformed request taken and
// dropped sets the mark again; a reader that asked just before may hand
// its role over with the Recv waiting on, which its reclaim period
// ends.)
func (s *rep) RecvWouldWait() bool {
	s.mu.Lock()
	ok := !s.closed && (s.state == repIdle || (s.state == repReceiving && s.fq.Popped() == s.mark))
	s.mu.Unlock()
	return ok && s.fq.Len() == 0
}

// Recv returns the next request's body.
func (s *rep) Recv(ctx context.Context) (Received, error) {
	s.mu.Lock()
	if s.state != repIdle {
		s.mu.Unlock()
		return Received{}, ErrState
	}
	s.state = repReceiving
	s.mark = s.fq.Popped()
	s.mu.Unlock()
	for {
		r, err := s.fq.Pop(ctx)
		if err != nil {
			s.mu.Lock()
			s.state = repIdle
			s.mu.Unlock()
			return Received{}, err
		}
		f := r.Msg.Frames
		i := emptyFrame(f)
		if i < 0 || i == len(f)-1 {
			s.mu.Lock()
			s.mark = s.fq.Popped() // waits again
			s.mu.Unlock()
			s.cfg.dropIn(r.Pipe, r.Msg, r.Tag, DropUnexpected)
			continue
		}
		s.mu.Lock()
		s.state = repReplying
		s.env = f[: i+1 : i+1]
		s.from = r.Pipe
		s.mu.Unlock()
		r.Msg = Msg{Frames: f[i+1:]}
		return r, nil
	}
}

// emptyFrame returns the index of the first empty frame, or -1.
func emptyFrame(frames [][]byte) int {
	for i, f := range frames {
		if len(f) == 0 {
			return i
		}
	}
	return -1
}

// Send sends the reply to the last request received.
func (s *rep) Send(_ context.Context, m Msg) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return transport.ErrClosed
	}
	if s.state != repReplying {
		s.mu.Unlock()
		return ErrState
	}
	frames := s.spare[:0]
	s.spare = nil
	if cap(frames) < len(s.env)+len(m.Frames) {
		frames = make([][]byte, 0, len(s.env)+len(m.Frames))
	}
	reply := Msg{Frames: append(append(frames, s.env...), m.Frames...)}
	p := s.from
	s.state, s.env, s.from = repIdle, nil, nil
	switch {
	case !s.live[p.ID()]:
		s.mu.Unlock()
		s.cfg.drop(p, reply, DropPeerGone)
		return nil
	case !p.TrySend(reply):
		s.mu.Unlock()
		s.cfg.drop(p, reply, DropHWM)
		return nil
	}
	s.mu.Unlock()
	if wroteWhole(p, reply) {
		clear(reply.Frames) // holds none of the caller's frames
		s.mu.Lock()
		s.spare = reply.Frames
		s.mu.Unlock()
	}
	return nil
}

// inlineWriter is a pipe that can write at once, from the sending
// goroutine, the message that goroutine just queued on it (the socket's
// pipes over stream connections, whose writer a sending goroutine may
// claim: socket/inline.go).
type inlineWriter interface {
	// WriteClaimed writes what the socket's sending goroutines claimed
	// and reports whether m, queued on the pipe by the caller, went out
	// whole: written, flushed and let go of, so that the caller may
	// reuse m's frame list. False: someone else may still hold it.
	WriteClaimed(m Msg) bool
}

// wroteWhole reports whether p, which took m, wrote it at once and let
// go of it: REQ and REP then reuse m's frame list for their next
// envelope rather than allocate one per message.
func wroteWhole(p Pipe, m Msg) bool {
	w, ok := p.(inlineWriter)
	return ok && w.WriteClaimed(m)
}
