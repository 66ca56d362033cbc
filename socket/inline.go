package socket

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/brookmq/brook/transport"
)

// Inline writes: a socket that sends while its peer's writer goroutine is
// parked writes the message itself, from the sending goroutine, instead
// of waking the writer: one goroutine hand-off (and, on an idle machine,
// the thread wake-up that comes with it) less per message each way, which
// is most of what a round trip costs beyond the network. The write never
// waits: the message is encoded into the connection's buffer and flushed
// with TryFlush; what the socket does not take at once is left to the
// writer goroutine, woken as usual.
//
// REQ and REP alternate sends and receives, so a send that finds the
// writer parked is the whole burst: they always write inline. PUSH,
// DEALER, ROUTER and PAIR write inline only when the writer has been
// parked for inlineQuiet: a stream keeps its writer goroutine, which
// batches many messages per syscall, while a lone message (a request, a
// reply, a paced stream) goes out at once. Types that send one message to
// many pipes (PUB, XPUB, XSUB) keep their writers, which work in
// parallel; so do journaled sockets, whose journal sends from its own
// goroutines.
//
// The pipe's writer role moves under the pipe's lock (pipe.wstate): TrySend
// takes it for the sending goroutine when the writer goroutine is parked
// (wIdle), and records the pipe as claimed; Socket.Send writes every
// claimed pipe once the pattern has routed the message, and gives the
// role back (to nobody, or to the writer goroutine when more is queued,
// some bytes are left, the socket is closing or the connection ends).

// tryFlusher is implemented by connections that can flush without waiting
// (zmtp over a socket).
type tryFlusher interface {
	TryFlush() (bool, error)
}

// inlineMax bounds the wire size of a message written inline: it fits in
// the connection's buffer without flushing on its own (flushBytes), and
// larger messages gain nothing from skipping the writer.
const inlineMax = 16 << 10

// inlineClaims are the pipes whose writer role a sending goroutine took.
// The list taken by writeClaimed comes back as spare, so claiming does
// not allocate once both lists have grown.
type inlineClaims struct {
	n      atomic.Int32 // len(claims), read without the lock
	mu     sync.Mutex
	claims []*pipe
	spare  []*pipe
}

// add records p as claimed.
func (c *inlineClaims) add(p *pipe) {
	c.mu.Lock()
	c.claims = append(c.claims, p)
	c.n.Store(int32(len(c.claims)))
	c.mu.Unlock()
}

// take returns the claimed pipes and starts a new list from the spare
// one; give the list back with recycle once done with it.
func (c *inlineClaims) take() []*pipe {
	c.mu.Lock()
	claims := c.claims
	c.claims, c.spare = c.spare, nil
	c.n.Store(0)
	c.mu.Unlock()
	return claims
}

// recycle keeps a list take returned as the spare one (if there is none).
func (c *inlineClaims) recycle(claims []*pipe) {
	clear(claims)
	c.mu.Lock()
	if c.spare == nil {
		c.spare = claims[:0]
	}
	c.mu.Unlock()
}

// inlineQuiet is how long a streaming type's writer must have been parked
// for a send to be written inline.
const inlineQuiet = 20 * time.Microsecond

// Inline write policies of a pipe (pipe.inline).
const (
	inlineNever     = iota
	inlineWhenQuiet // when the writer has been parked for inlineQuiet
	inlineAlways
)

// inlinePolicy is the inline write policy of s's pipes.
func (s *Socket) inlinePolicy() uint8 {
	if s.jnl != nil {
		return inlineNever
	}
	switch s.typ {
	case Req, Rep:
		return inlineAlways
	case Push, Dealer, Router, Pair:
		return inlineWhenQuiet
	}
	return inlineNever
}

// takesInline says whether a send of m may take p's writer role: the
// writer is parked, quiet long enough for the pipe's policy, and the
// connection can flush m without waiting. p.mu is held.
func (p *pipe) takesInline(m transport.Msg) bool {
	if p.wstate != wIdle || p.inline == inlineNever {
		return false
	}
	if p.inline == inlineWhenQuiet && time.Since(p.parked) < inlineQuiet {
		return false
	}
	return p.w.fits(m)
}

// route has the pattern route m, then writes what the routing claimed
// inline (every caller of the pattern's Send goes through here).
func (s *Socket) route(ctx context.Context, m Msg) error {
	err := s.snd.Send(ctx, m)
	s.writeClaimed()
	return err
}

// fits says whether m may be written inline on this connection.
func (w *pipeWriter) fits(m transport.Msg) bool {
	if w.tf == nil {
		return false
	}
	n := 0
	for _, f := range m.Frames {
		n += len(f) + 9
	}
	return n <= inlineMax
}

// claimInline records p, whose writer role was just taken for a sending
// goroutine. p.mu is held.
func (s *Socket) claimInline(p *pipe) { s.inl.add(p) }

// writeClaimed writes every claimed pipe: Send calls it after the pattern
// routed a message, so a claim made while routing is always written by
// the goroutine that made it, or by another one that took it first.
func (s *Socket) writeClaimed() {
	if s.inl.n.Load() == 0 {
		return
	}
	claims := s.inl.take()
	for _, p := range claims {
		p.writeInline(nil)
	}
	s.inl.recycle(claims)
}

// WriteClaimed writes every pipe the socket's sending goroutines claimed,
// as writeClaimed does but before the pattern's Send returns, and reports
// whether m, which the caller queued on p, went out whole from here:
// written and flushed, and no longer held by the pipe, so the caller may
// reuse m's frame list. False says nothing about m's fate (the writer
// goroutine, another sending goroutine or the peer may have it), only
// that its list is not the caller's again. It implements
// patterns' inlineWriter.
func (p *pipe) WriteClaimed(m Msg) bool {
	s := p.s
	if len(m.Frames) == 0 || s.inl.n.Load() == 0 {
		return false
	}
	claims := s.inl.take()
	gone := false
	for _, c := range claims {
		var mine *Msg
		if c == p {
			mine = &m
		}
		if c.writeInline(mine) {
			gone = true
		}
	}
	s.inl.recycle(claims)
	return gone
}

// sameList reports whether a and b are the same frame list (not only equal
// frames): the message a sending goroutine queued.
func sameList(a, b [][]byte) bool {
	return len(a) == len(b) && len(a) > 0 && &a[0] == &b[0]
}

// writeInline writes what p has queued from the sending goroutine, which
// holds p's writer role, and flushes it without waiting; then it gives the
// role back. It reports whether mine (when not nil) was among the
// messages written, and everything written was flushed: the pipe has let
// go of it.
func (p *pipe) writeInline(mine *Msg) bool {
	found := false
	w := p.w // stable while the role is held: the writer goroutine waits for it
	batch, wasFull := p.popAll(w.spare())
	if wasFull {
		p.s.pipeWritable(p)
	}
	if len(batch) > 0 {
		w.pending = append(w.pending, unflushed{batch: batch})
		for i := range batch {
			it := &batch[i]
			size := it.wireSize()
			if it.kind != itemData || size > inlineMax || w.bytes+size > flushBytes {
				// Not for here: the writer goroutine takes it and the rest.
				w.pending[len(w.pending)-1].batch = batch[:i]
				p.unpop(batch[i:])
				break
			}
			if err := w.write(it); err != nil {
				w.err = w.fail(err)
				break
			}
			if mine != nil && sameList(it.msg.Frames, mine.Frames) {
				found = true
			}
			w.bytes += size
			w.held++
		}
	}
	gone := false
	if w.err == nil && len(w.pending) > 0 {
		done, err := w.tf.TryFlush()
		switch {
		case err != nil:
			w.err = w.fail(err)
		case done:
			w.flushed() // settles (and clears) every item written
			gone = found
		}
	}
	if w.err != nil {
		w.conn.Close() // the reader ends too; the writer goroutine reports why
	}
	p.mu.Lock()
	if w.err == nil && len(w.pending) == 0 && len(p.q) == 0 && !p.stopWanted && !p.s.closing.Load() {
		p.wstate = wIdle
		if p.inline == inlineWhenQuiet {
			p.parked = time.Now() // a stream's next sends go to the writer goroutine
		}
	} else {
		p.wstate = wBusy
		p.token()
	}
	p.mu.Unlock()
	return gone
}

// unpop puts items taken from the queue but not written back in front of
// it (they still count against the HWM).
func (p *pipe) unpop(items []outItem) {
	p.mu.Lock()
	p.q = append(append(make([]outItem, 0, len(items)+len(p.q)), items...), p.q...)
	p.mu.Unlock()
	clear(items)
}

// Direct hand-off: an inproc connection carries Msg values, with nothing
// to encode or flush, so a sending goroutine that finds the pipe empty
// and its writer goroutine parked hands the message straight to the
// peer's queue itself (directConn.TryWriteMsg), under the pipe's lock so
// that concurrent senders keep their order. The writer goroutine is not
// woken; the message still counts against the pipe's high-water mark
// until the peer's reader takes it (creditConn). When the
// peer's queue is full or the connection is gone, the message is queued
// for the writer goroutine as usual; it writes a run of messages at a
// time (directConn.WriteMsgs) and gives their room back once per run.

// directConn is implemented by connections that hand messages over
// without encoding them (inproc).
type directConn interface {
	TryWriteMsg(m transport.Msg) (bool, error)
	WriteMsgs(msgs []transport.Msg) (int, error)
}

// handsOver hands m straight to the peer's queue when nothing is queued
// before it and nobody writes: it reports whether it did. p.mu is held.
func (p *pipe) handsOver(m Msg) bool {
	if p.wstate != wIdle || !p.direct || len(p.q) > 0 || p.w.direct == nil || p.s.closing.Load() {
		return false
	}
	ok, err := p.w.direct.TryWriteMsg(m)
	if !ok || err != nil {
		return false // the writer goroutine waits for room, or reports the failure
	}
	p.sent.Add(1)
	return true
}

// writeDirect writes batch to a direct connection: runs of messages in
// one call each, the room of each run given back at once.
func (w *pipeWriter) writeDirect(batch []outItem) error {
	w.pending = append(w.pending, unflushed{batch: batch})
	for i := 0; i < len(batch); {
		if batch[i].kind != itemData {
			// A subscription or a command: settled with the next run.
			if err := w.write(&batch[i]); err != nil {
				return w.fail(err)
			}
			i++
			continue
		}
		w.msgs = w.msgs[:0]
		for j := i; j < len(batch) && batch[j].kind == itemData && len(w.msgs) < cap(w.msgs); j++ {
			w.msgs = append(w.msgs, batch[j].msg)
		}
		n, err := w.direct.WriteMsgs(w.msgs)
		clear(w.msgs)
		if err != nil {
			return w.fail(err)
		}
		i += n
		w.wroteDirect(n)
		if err := w.flushBefore(i); err != nil {
			return err
		}
	}
	return w.flush()
}
