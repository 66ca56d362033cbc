package socket

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/brookmq/brook/patterns"
	"github.com/brookmq/brook/transport"
)

// Inline receives: a REQ awaiting its reply, or a REP its next request,
// reads the connection itself, from the goroutine in Recv, instead of
// waiting for the connection's reader goroutine to hand it the message.
// The network poller then wakes the goroutine that wants the message, as
// in a bare loop over a net.Conn, where a hand-off costs a second wake-up
// (and, on an idle machine, the thread wake-up that comes with it): about
// half of a round trip's cost beyond the network. It is the receiving
// twin of inline writes (inline.go).
//
// The reading role moves under inlineRecv.mu. A reader goroutine that has
// delivered a message and has nothing more buffered hands the role to the
// application when the socket has a single pipe (handOver), then parks.
// A Recv that would wait takes the role (recvInline), reads until the
// pattern has a message for it, and keeps the role for the next Recv: a
// request-reply loop reads every message inline, with no goroutine
// hand-off at all. The reader goroutine takes the role back when no Recv
// has used it for one to two periods (reclaimPeriod), so an application
// that stops receiving still has its peer's hang-up and heartbeats read,
// and at once when its connection ends or the socket closes (stop). A
// Recv whose ctx can end arms it with context.AfterFunc, once for as
// long as the application passes the same ctx.
//
// The Conn reads inline in two steps that lose nothing when cut short
// (zmtp's readinline.go): a read of the stream into its buffer, which
// InterruptRead stops, and the parsing of whole frames only. A Recv whose
// ctx ends, a socket that closes, a message of another pipe, or a reader
// goroutine that wants its role back interrupts the read; the Recv then
// looks at why, and either reads on, returns, or gives the role back and
// waits in the pattern as before. What was read and not parsed stays in
// the Conn's buffer for whoever reads next.
type inlineRecv struct {
	held atomic.Bool // holder != nil: read without the lock by Recv

	mu          sync.Mutex
	holder      *pipe         // the pipe whose reading role the application holds
	r           inlineReader  // holder's connection
	busy        bool          // a Recv reads r now
	interrupted bool          // r.InterruptRead was called while busy
	wantBack    bool          // the reader goroutine waits for its role back
	period      time.Duration // reclaimPeriod
	used        bool          // a Recv took the role since the reader goroutine last looked
	back        chan struct{} // token: the role went back to the reader goroutine
	batch       []Msg         // the busy Recv's
	handOvers   uint64        // roles handed to the application so far (tests wait on it)
	refusals    uint64        // hand-overs refused for a Recv that seemed to wait (tests look at it)
	reads       uint64        // Recvs that read inline so far (tests look at it)
	// Recvs gone to the pattern (enterWait to leaveWait): changed under
	// mu by a Recv that may wait there, so handOver sees it, and
	// without it by one that has a message (queue).
	waiting atomic.Int64
	// queue says the socket queues what every pipe receives (PULL): a
	// Recv takes any message, and inline reads hand the pattern whole
	// batches. ahead is then the messages the readers have queued less
	// the Recvs that have started since (enterWait): a Recv that takes
	// it from above zero has a message queued for it, and goes to the
	// pattern without a lock or a look at the queue.
	queue bool
	ahead atomic.Int64
	// The ctx whose end interrupts an inline Recv (watched, with its
	// context.AfterFunc's stop), kept from one Recv to the next: an
	// application that passes the same ctx each time arms it once.
	watched context.Context
	unwatch func() bool
}

// inlineReader is a connection that can be read inline (zmtp.Conn).
type inlineReader interface {
	transport.Conn
	InlineReadable() bool
	ReadPending() bool
	ReadBuffered(dst []Msg, max int) ([]Msg, error)
	FillBuffer() (bool, error)
	InterruptRead()
	ResumeRead()
}

// recvWaiter is a pattern that tells whether a Recv, called now or
// waiting now, would wait for a message to arrive (REQ, REP).
type recvWaiter interface {
	RecvWouldWait() bool
}

// queueReader is a pattern whose Recv takes any message it has queued,
// from every pipe (PULL): a Recv would wait when nothing is queued.
type queueReader interface {
	patterns.BatchInbound
	Unread() int
}

// queueWaiter is a queueReader's recvWaiter.
type queueWaiter struct{ q queueReader }

func (w queueWaiter) RecvWouldWait() bool { return w.q.Unread() == 0 }

// recvWaiterOf returns the recvWaiter of a pattern that receives inline
// (newInlineRecv).
func recvWaiterOf(pat patterns.Pattern) recvWaiter {
	if w, ok := pat.(recvWaiter); ok {
		return w
	}
	return queueWaiter{pat.(queueReader)}
}

// inlineReclaim is how long the reader goroutine leaves its role to an
// application that does not receive before it reads again itself (it
// looks once a period, so between one and two periods): the longest a
// hang-up or a PING waits in the kernel when nobody receives. Its timer
// fires once a period while the application receives, so the period is
// long: a timer that fires often wakes a thread (another CPU) as often,
// which made round trips between processes twice as slow at 1ms. With
// heartbeats on it is at most a quarter of their interval and timeout,
// so a peer with the same settings gets its PONGs in time.
const inlineReclaim = 20 * time.Millisecond

// reclaimPeriod is inlineReclaim, shortened for heartbeats every ivl
// with timeout (zero: off, or the interval).
func reclaimPeriod(ivl, timeout time.Duration) time.Duration {
	d := inlineReclaim
	for _, h := range []time.Duration{ivl, timeout} {
		if h > 0 {
			d = min(d, h/4)
		}
	}
	return max(d, time.Millisecond)
}

// newInlineRecv returns the inline receive state of a socket of type t,
// or nil when its receives are never inline: REQ and REP alternate, and
// PULL queues what it receives (a stream read by one goroutine, as in a
// bare loop, rather than handed from the reader goroutine to the
// application batch by batch, with a wake-up and the queue's memory
// moving between two CPUs each time); a journal reads through its own
// goroutines. (Every PULL has a journal receiver, for journaled peers:
// their connections are read by its loops, which never hand their role
// over, so only a plain peer's connection is read inline.)
func newInlineRecv(t Type, pat patterns.Pattern, journaled bool, hbIvl, hbTimeout time.Duration) *inlineRecv {
	rx := &inlineRecv{back: make(chan struct{}, 1), period: reclaimPeriod(hbIvl, hbTimeout)}
	switch t {
	case Req, Rep:
		if _, ok := pat.(recvWaiter); !ok || journaled {
			return nil
		}
	case Pull:
		if _, ok := pat.(queueReader); !ok {
			return nil
		}
		rx.queue = true
	default:
		return nil
	}
	return rx
}

// readInline is runConn's read loop for a socket that receives inline:
// the plain loop, but a reader that has delivered a message and has
// nothing more buffered hands its role to the application and waits to
// have it back. It returns why reading ended.
func (s *Socket) readInline(ctx context.Context, p *pipe, conn transport.Conn) error {
	r, _ := conn.(inlineReader)
	if r != nil && !r.InlineReadable() {
		r = nil
	}
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	room := s.roomFirst(nil)
	one := make([]Msg, 0, 1)
	// delivered says a message was delivered since the role came back:
	// only then is it handed over, as a Recv may want the next one.
	delivered := false
	for {
		if err := s.waitRoom(ctx, p, &room); err != nil {
			return err
		}
		m, got, err := readNext(conn, r, one)
		if err != nil {
			return err
		}
		if got {
			delivered = true
			p.received.Add(1)
			if err := s.pat.Inbound(ctx, p, m, 0); err != nil {
				if s.closing.Load() && errors.Is(err, transport.ErrClosed) {
					s.dropped(p, DropUnread, 1)
					continue
				}
				return err
			}
			s.rx.interrupt() // a Recv reading another pipe inline: this message is for it
			if hook := testHookBeforeHandOver.Load(); hook != nil {
				(*hook)(s)
			}
		}
		if r == nil || r.ReadPending() || !delivered || !s.handOver(p, r) {
			continue
		}
		delivered = false
		if timer == nil {
			timer = time.NewTimer(s.rx.period)
		} else {
			timer.Reset(s.rx.period)
		}
		s.rx.waitBack(ctx, timer)
		room.n = 0 // Recvs that read inline queued messages too: ask again
	}
}

// readNext reads conn's next message for readInline. When r (nil: conn
// is not read inline) has read bytes it has not parsed, it first takes
// what is whole among them, without reading the stream: a message, or
// commands only, and then got is false once nothing is left (the reader
// may then hand its role over). So a PONG read with a reply is handled
// there, where ReadMsg would handle it and then wait for the next
// message with the role kept (a REQ with heartbeats then kept reading
// its replies through the pattern until the next one came alone). With
// only part of a frame left, or nothing read, it reads the stream.
func readNext(conn transport.Conn, r inlineReader, one []Msg) (m Msg, got bool, err error) {
	if r != nil && r.ReadPending() {
		one, err = r.ReadBuffered(one[:0], 1)
		if err != nil {
			return Msg{}, false, err
		}
		if len(one) == 1 {
			m = one[0]
			clear(one)
			return m, true, nil
		}
		if !r.ReadPending() {
			return Msg{}, false, nil
		}
	}
	m, err = conn.ReadMsg()
	return m, err == nil, err
}

// singlePipe says whether the socket has one pipe.
func (s *Socket) singlePipe() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pipes) == 1
}

// handOver gives p's reading role to the application, when p is the
// socket's only pipe and no other pipe's role is held.
func (s *Socket) handOver(p *pipe, r inlineReader) bool {
	if !s.singlePipe() {
		return false
	}
	rx := s.rx
	rx.mu.Lock()
	defer rx.mu.Unlock()
	// closing is read under mu, which stop takes after setting it: no
	// role is handed over once Close has taken them back.
	if rx.holder != nil || s.closing.Load() {
		return false
	}
	// A Recv that came while the role was with this goroutine waits in
	// the pattern (enterWait): if it still would, this goroutine reads
	// on for it, or nobody would read the connection until the role was
	// reclaimed.
	// (A REP's Recv that has taken its request but not yet marked it
	// taken looks the same: the role then waits for the next message.)
	if rx.stillWaits() && s.rwait.RecvWouldWait() {
		rx.refusals++
		return false
	}
	rx.holder, rx.r, rx.used, rx.wantBack = p, r, false, false
	rx.handOvers++
	select {
	case <-rx.back: // a stale token
	default:
	}
	rx.held.Store(true)
	return true
}

// stillWaits says whether a Recv registered in the pattern (enterWait)
// may still wait for a message. On a queue socket one does only when
// ahead is below zero: more Recvs have started than messages were
// queued since. An empty queue alone does not tell: the Recv that took
// the message just queued stays registered until it returns, and a
// reader that saw it there and read on kept its role while nothing more
// came (the application then never read inline).
func (rx *inlineRecv) stillWaits() bool {
	if rx.waiting.Load() == 0 {
		return false
	}
	return !rx.queue || rx.ahead.Load() < 0
}

// waitBack parks the reader goroutine whose role the application holds
// until the role is back: given back by a Recv, or reclaimed when no Recv
// used it for a period or ctx ends (the connection is over).
func (rx *inlineRecv) waitBack(ctx context.Context, timer *time.Timer) {
	for {
		select {
		case <-rx.back:
			return
		case <-timer.C:
			rx.mu.Lock()
			if rx.holder == nil { // given back: the token is there
				rx.mu.Unlock()
				<-rx.back
				return
			}
			if rx.busy || rx.used {
				rx.used = false
				rx.mu.Unlock()
				timer.Reset(rx.period)
				continue
			}
			rx.releaseLocked()
			rx.mu.Unlock()
			<-rx.back
			return
		case <-ctx.Done():
			rx.mu.Lock()
			if rx.holder != nil && !rx.busy {
				rx.releaseLocked()
			} else if rx.holder != nil {
				rx.wantBack = true
				rx.interruptLocked()
			}
			rx.mu.Unlock()
			<-rx.back
			return
		}
	}
}

// releaseLocked gives the role back to the holder's reader goroutine. mu
// is held and no Recv reads.
func (rx *inlineRecv) releaseLocked() {
	rx.holder, rx.r, rx.wantBack = nil, nil, false
	rx.held.Store(false)
	rx.back <- struct{}{}
}

// stop takes the role back for Close, which has set closing: a Recv
// reading inline gives it back (and returns ErrClosed), a role held by
// an application that does not receive goes back to its reader
// goroutine at once, which reads the peer's hang-up while Close lingers.
func (rx *inlineRecv) stop() {
	if rx == nil {
		return
	}
	rx.mu.Lock()
	defer rx.mu.Unlock()
	rx.unwatchLocked()
	switch {
	case rx.holder == nil:
	case rx.busy:
		rx.interruptLocked()
	default:
		rx.releaseLocked()
	}
}

// unwatchLocked forgets the watched ctx. mu is held.
func (rx *inlineRecv) unwatchLocked() {
	if rx.unwatch != nil {
		rx.unwatch()
	}
	rx.watched, rx.unwatch = nil, nil
}

// interrupt stops the read of a Recv reading inline, if any: it looks
// again at what it waits for.
func (rx *inlineRecv) interrupt() {
	if rx == nil || !rx.held.Load() {
		return
	}
	rx.mu.Lock()
	rx.interruptLocked()
	rx.mu.Unlock()
}

func (rx *inlineRecv) interruptLocked() {
	if rx.busy && !rx.interrupted {
		rx.interrupted = true
		rx.r.InterruptRead()
	}
}

// testHookBeforeHandOver, when set by a test, runs in the reader
// goroutine after it has delivered a message and before it may hand its
// role over.
var testHookBeforeHandOver atomic.Pointer[func(*Socket)]

// enterWait registers a Recv that is about to wait in the pattern, unless
// a role was handed to the application since recvInline looked and this
// Recv would wait: then it reports false, and the Recv reads inline after
// all. Under the same lock handOver does not hand a role over while a
// registered Recv would still wait, so a Recv never waits for a message
// that nobody reads. leaveWait ends the registration.
//
// On a queue socket every Recv that gets here counts itself out of
// ahead, whether it waits or not: one that finds a message queued for
// it (ahead was above zero) needs no lock, and one that may wait takes
// the lock as on the others. A Recv that fails (its ctx ends) leaves
// ahead one short, which only sends later Recvs the locked way, until a
// Recv that finds the queue empty and nobody else in the pattern sets
// it right.
func (s *Socket) enterWait() bool {
	rx := s.rx
	if rx.queue {
		if rx.ahead.Add(-1) >= 0 {
			rx.waiting.Add(1)
			return true
		}
	}
	rx.mu.Lock()
	defer rx.mu.Unlock()
	if rx.holder != nil && !rx.busy && s.rwait.RecvWouldWait() {
		if rx.queue {
			rx.ahead.Add(1) // it reads inline, then counts itself again
		}
		return false
	}
	if rx.queue && rx.waiting.Load() == 0 {
		if a := rx.ahead.Load(); a < -1 && s.rwait.RecvWouldWait() {
			// Nothing queued and this Recv alone: ahead is -1, less
			// only by Recvs that failed.
			rx.ahead.CompareAndSwap(a, -1)
		}
	}
	rx.waiting.Add(1)
	return true
}

// leaveWait ends a Recv's enterWait.
func (rx *inlineRecv) leaveWait() { rx.waiting.Add(-1) }

// queued counts n messages a reader is about to queue on a queue socket
// (negative n: ones it failed to queue after all): n Recvs may take them
// without a look at the queue (enterWait). They are counted before they
// are queued, so that ahead never counts fewer Recvs than have taken
// them: counted after, a Recv that found the queue drained meanwhile
// (nobody else in the pattern, ahead below -1 as each Recv had counted
// itself out) would set ahead right to -1 just before the count came,
// which then promised 127 messages of a batch of 128 that were gone,
// and Recvs waited in the pattern with nobody reading until the reader
// goroutine took its role back, a batch every 20 ms. Counted before, a
// Recv that counts on one waits at most until the reader has queued it.
func (rx *inlineRecv) queued(n int) {
	if rx != nil && rx.queue {
		rx.ahead.Add(int64(n))
	}
}

// recvInline reads inline for a Recv that would wait, when the
// application holds a reading role and no other Recv uses it. It returns
// once the pattern has a message for Recv, or with ctx's error; when it
// cannot read inline (the connection failed, the message is too big for
// the read buffer, the socket closes) it gives the role back, and Recv
// waits in the pattern as before.
func (s *Socket) recvInline(ctx context.Context) error {
	rx := s.rx
	if !rx.held.Load() || rx.ahead.Load() > 0 || !s.rwait.RecvWouldWait() {
		return nil
	}
	rx.mu.Lock()
	if rx.holder == nil || rx.busy {
		rx.mu.Unlock()
		return nil
	}
	p, r := rx.holder, rx.r
	rx.busy, rx.used = true, true
	rx.reads++
	batch := rx.batch
	if ctx.Done() != nil && ctx != rx.watched {
		rx.unwatchLocked()
		rx.watched, rx.unwatch = ctx, context.AfterFunc(ctx, rx.interrupt)
	}
	rx.mu.Unlock()

	batch, keep, err := s.readInlineFor(ctx, p, r, batch)

	rx.mu.Lock()
	if rx.interrupted {
		r.ResumeRead()
		rx.interrupted = false
	}
	rx.busy = false
	rx.batch = batch
	if !keep || rx.wantBack {
		rx.releaseLocked()
	}
	rx.mu.Unlock()
	return err
}

// readInlineFor reads p's connection r until the pattern has a message
// for Recv. It reports whether the application keeps the role, and ctx's
// error if ctx ended first.
func (s *Socket) readInlineFor(ctx context.Context, p *pipe, r inlineReader, batch []Msg) ([]Msg, bool, error) {
	rx := s.rx
	if rx.queue && !s.singlePipe() {
		// The other pipes' reader goroutines fill the queue, and this
		// one's would be read only when they leave it empty.
		return batch, false, nil
	}
	for {
		var err error
		if rx.queue {
			batch, err = s.readQueued(ctx, p, r, batch)
		} else {
			batch, err = r.ReadBuffered(batch[:0], 1)
			for _, m := range batch {
				p.received.Add(1)
				if err := s.pat.Inbound(ctx, p, m, 0); err != nil {
					s.dropped(p, DropUnread, 1)
				}
			}
			clear(batch)
		}
		if err != nil {
			return batch, false, nil // the reader goroutine ends the connection
		}
		// Checked with busy set, so a message another pipe's reader
		// delivers, or the end of ctx, either shows here or interrupts
		// the read below.
		if !s.rwait.RecvWouldWait() {
			return batch, true, nil
		}
		if err := ctx.Err(); err != nil {
			return batch, true, err
		}
		more, err := r.FillBuffer()
		if err != nil {
			return batch, false, nil
		}
		if more {
			continue
		}
		rx.mu.Lock()
		interrupted := rx.interrupted
		if interrupted {
			r.ResumeRead()
			rx.interrupted = false
		}
		wantBack := rx.wantBack
		rx.mu.Unlock()
		switch {
		case !interrupted, wantBack, s.closing.Load():
			return batch, false, nil // the buffer is full, or the role is wanted back
		case ctx.Err() != nil:
			return batch, true, ctx.Err()
		case !s.rwait.RecvWouldWait():
			return batch, true, nil // another pipe's message
		}
	}
}

// readQueued hands a queue socket's pattern the messages that have
// arrived whole in r's read buffer, as one batch of at most the room p
// has (maxReadBatch at most): Recvs take them without a look at the
// queue (queued). An error is r's, final.
func (s *Socket) readQueued(ctx context.Context, p *pipe, r inlineReader, batch []Msg) ([]Msg, error) {
	in := s.pat.(patterns.BatchInbound)
	room, err := in.Room(ctx, p)
	if err != nil {
		// Closed, or ctx ended: the role goes back, and the Recv
		// learns which in the pattern.
		return batch, err
	}
	batch, err = r.ReadBuffered(batch[:0], min(room, maxReadBatch))
	if n := len(batch); n > 0 {
		p.received.Add(uint64(n))
		s.rx.queued(n) // counted before they are queued: see queued
		if in.InboundBatch(p, batch) != nil {
			s.rx.queued(-n)
			s.dropped(p, DropUnread, n)
		}
	}
	clear(batch)
	return batch, err
}
