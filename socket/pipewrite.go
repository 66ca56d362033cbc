package socket

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/brookmq/brook/socket/internal/jwire"
	"github.com/brookmq/brook/transport"
)

// writeLoop drains the send queue into conn, many messages per flush, until
// the connection fails, ctx ends, or the socket is closing and everything
// queued has been flushed (linger).
//
// The writer decides every flush itself: it flushes before the
// connection's buffer could fill (flushBytes), so nothing leaves behind
// its back. A Flush that succeeded handed all its bytes to the transport
// (the kernel, or QUIC's stream): those messages are sent and never sent
// again. What was written since the last successful flush goes back in
// front of the queue when the connection fails: a message Send accepted
// is lost only if the peer dies while it sits in the transport's buffers
// (ZeroMQ's at-most-once; a journal gives more). So a transport must not
// fail a Flush whose bytes all went (quic's dataStream.Write sees to it),
// or the next peer gets them again. A write that fails midway has sent a
// prefix of its bytes: a connection that counts its writes
// (transport.WriteCounter, zmtp's) says how many of the items written
// since the last flush went out whole, and those are sent too; the one
// cut in the middle and the rest go back. Without a count, all of them go
// back.
//
// Messages written but not flushed still count against the pipe's HWM, so
// the writer also flushes once half the HWM is unflushed: the sender gets
// room back while the other half is being written, as libzmq's pipes give
// credit back at their low-water mark.
func (p *pipe) writeLoop(ctx context.Context, conn transport.Conn) error {
	w := &pipeWriter{p: p, conn: conn, lwm: lowWater(p.hwm)}
	if b, ok := conn.(buffering); ok && !b.Buffered() {
		// Each message is handed over as it is written (inproc), and a
		// write may wait for the peer: give its room back at once.
		w.lwm = 1
	}
	w.tf, _ = conn.(tryFlusher)
	if wc, ok := conn.(transport.WriteCounter); ok {
		w.wc = wc
		w.base = wc.Written()
	}
	if d, ok := conn.(directConn); ok {
		w.direct = d
		w.msgs = make([]Msg, 0, directRun)
		if cc, ok := conn.(creditConn); ok {
			w.credit = &directCredit{p: p}
			cc.SetCredit(w.credit.taken)
			if gc, ok := conn.(gatedConn); ok {
				w.gated = gc
				gc.SetGateRoom(p.gateRoom)
			}
		}
	}
	p.mu.Lock()
	p.w, p.wstate = w, wBusy
	p.mu.Unlock()
	err := w.run(ctx)
	p.mu.Lock()
	wake := p.endGateLocked()
	p.w, p.wstate = nil, wNone
	p.mu.Unlock()
	if wake {
		p.s.pipeWritable(p)
	}
	if w.credit != nil {
		// Nothing is handed over any more (the role is nobody's): what
		// the peer has not taken is lost with the connection.
		w.credit.end()
	}
	return err
}

// creditConn is implemented by direct connections that report the
// messages their peer has taken (inproc's SetCredit): a message handed
// over stays counted against the pipe's HWM until the peer's reader has
// taken it, so the connection's own queue is inside the HWM.
type creditConn interface {
	SetCredit(fn func(n int))
}

// directCredit counts a connection's messages handed over and not yet
// taken by the peer, each still counted in its pipe's data; taken gives
// their room back. Once the connection ends, end gives back the room of
// those the peer never took, and later credits are ignored, so no
// message's room is given back twice. Its fields are guarded by the
// pipe's mu, which a hand-off (TrySend) holds already and a credit takes
// once for the count and the room together.
type directCredit struct {
	p    *pipe
	out  int // handed over, not yet taken (below zero while a credit overtakes its count)
	done bool
}

// addLocked counts n messages handed over. p.mu must be held.
func (c *directCredit) addLocked(n int) { c.out += n }

// add counts n messages handed over.
func (c *directCredit) add(n int) {
	c.p.mu.Lock()
	c.addLocked(n)
	c.p.mu.Unlock()
}

// taken is the connection's credit function: the peer took n messages.
func (c *directCredit) taken(n int) {
	p := c.p
	p.mu.Lock()
	if c.done {
		p.mu.Unlock()
		return
	}
	c.out -= n
	wasFull := p.releaseLocked(n, p.hwm-1)
	p.mu.Unlock()
	if wasFull {
		p.s.pipeWritable(p)
	}
}

// end gives back the room of the messages the peer has not taken, once
// nothing more is handed over on the connection.
func (c *directCredit) end() {
	p := c.p
	p.mu.Lock()
	n := max(c.out, 0)
	c.out, c.done = 0, true
	wasFull := p.releaseLocked(n, p.hwm-1)
	p.mu.Unlock()
	if wasFull {
		p.s.pipeWritable(p)
	}
}

// wroteDirect accounts for n data messages handed to a direct
// connection: counted until the peer takes them if it gives credit,
// otherwise released with the run.
func (w *pipeWriter) wroteDirect(n int) {
	if w.credit != nil {
		w.credit.add(n)
		return
	}
	w.held += n
}

// run is the writer goroutine's loop; it holds the writer's role except
// while parked.
func (w *pipeWriter) run(ctx context.Context) error {
	p := w.p
	for {
		if w.err != nil {
			return w.err // a write inline failed (it put its messages back)
		}
		batch, wasFull := p.popAll(w.spare())
		if wasFull {
			p.s.pipeWritable(p)
		}
		if len(batch) == 0 {
			w.free = append(w.free, batch)
			if len(w.pending) > 0 {
				if err := w.flush(); err != nil {
					return err
				}
				continue
			}
			if p.s.closing.Load() {
				return p.lingerEnd(w.conn)
			}
			if !p.park() {
				continue
			}
			select {
			case <-p.wake:
				p.acquire()
			case <-ctx.Done():
				return w.stop(ctx.Err())
			}
			continue
		}
		if w.direct != nil {
			if err := w.writeDirect(batch); err != nil {
				return err
			}
			continue
		}
		w.pending = append(w.pending, unflushed{batch: batch})
		for i := range batch {
			it := &batch[i]
			size := it.wireSize()
			if w.bytes > 0 && w.bytes+size > flushBytes {
				if err := w.flushBefore(i); err != nil {
					return err
				}
			}
			if err := w.write(it); err != nil {
				return w.fail(err)
			}
			w.bytes += size
			if it.kind == itemData {
				w.held++
			}
			if size > flushBytes || w.held >= w.lwm {
				// A big message may have gone out directly, or half the
				// HWM waits unflushed: settle them now.
				if err := w.flushBefore(i + 1); err != nil {
					return err
				}
			}
		}
	}
}

// park gives up the writer's role when nothing is queued (and the socket
// is not closing): the writer goroutine then waits for a token, which
// comes with the role. It reports false when there is work instead.
func (p *pipe) park() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.q) > 0 || p.s.closing.Load() {
		return false
	}
	p.wstate = wIdle
	if p.inline == inlineWhenQuiet {
		p.parked = time.Now()
	}
	return true
}

// acquire takes the writer's role back after a wake-up: the token came
// with it, or was a stale one and the role is free, or a sending goroutine
// writing inline has it and hands it over when done (another token).
func (p *pipe) acquire() {
	p.mu.Lock()
	for p.wstate == wInline {
		p.mu.Unlock()
		<-p.wake
		p.mu.Lock()
	}
	p.wstate = wBusy
	p.mu.Unlock()
}

// stop takes the writer's role back for good when the connection's
// context ends while the writer goroutine is parked: a sending goroutine
// writing inline finishes first. What it left unflushed goes back to the
// queue.
func (w *pipeWriter) stop(err error) error {
	p := w.p
	p.mu.Lock()
	p.stopWanted = true
	p.mu.Unlock()
	p.acquire()
	p.mu.Lock()
	p.stopWanted = false
	p.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	if len(w.pending) > 0 {
		return w.fail(err)
	}
	return err
}

// directRun bounds the messages the writer hands a direct connection in
// one call (the inproc queue's capacity).
const directRun = 64

// buffering is implemented by connections that may say their WriteMsg
// hands each message over at once, with nothing left for Flush to do
// (inproc).
type buffering interface {
	Buffered() bool
}

// lowWater is how many unflushed data messages make the writer flush: half
// the HWM (at least one), or no limit without a HWM.
func lowWater(hwm int) int {
	if hwm <= 0 {
		return math.MaxInt
	}
	return max(1, hwm/2)
}

// lingerEnd ends a closing socket's writing once everything queued has
// been flushed: it half-closes the connection, so the peer reads to the
// end and hangs up, which tells the reader (runConn) that the linger is
// over for this pipe. A transport that cannot half-close counts as
// drained once flushed.
func (p *pipe) lingerEnd(conn transport.Conn) error {
	err := conn.CloseWrite()
	if errors.Is(err, transport.ErrNotSupported) {
		p.markDrained()
		return nil
	}
	return err
}

// unflushed is a batch whose items from index from on have been written
// but not flushed.
type unflushed struct {
	batch []outItem
	from  int
}

// pipeWriter is the writer goroutine's bookkeeping: batches written since
// the last flush, and emptied batches to swap into the pipe again.
type pipeWriter struct {
	p       *pipe
	conn    transport.Conn
	tf      tryFlusher             // conn, if it can flush without waiting (inline writes)
	direct  directConn             // conn, if it takes messages as they are (inproc)
	credit  *directCredit          // direct's messages not yet taken by the peer, if it reports them
	gated   gatedConn              // direct, if it has a gate (with credit only; pipegate.go)
	wc      transport.WriteCounter // conn, if it counts the writes that went out whole
	base    uint64                 // wc's count when the first pending item was written
	msgs    []Msg                  // a run of messages for direct (cap directRun)
	err     error                  // a write inline failed: the writer goroutine ends with it
	pending []unflushed            // oldest first; the last may be the batch in progress
	free    [][]outItem
	bytes   int // written since the last flush
	held    int // data messages written since the last flush
	lwm     int // flush once held reaches this
}

func (w *pipeWriter) spare() []outItem {
	if n := len(w.free); n > 0 {
		b := w.free[n-1]
		w.free = w.free[:n-1]
		return b
	}
	return nil
}

// write writes one item to the connection.
func (w *pipeWriter) write(it *outItem) error {
	conn := w.conn
	switch it.kind {
	case itemData:
		return conn.WriteMsg(it.msg)
	case itemSubscribe:
		return conn.WriteSubscription(it.msg.Frames[0], true)
	case itemCancel:
		return conn.WriteSubscription(it.msg.Frames[0], false)
	case itemCommand:
		return conn.WriteCommand(string(it.msg.Frames[0]), it.msg.Frames[1])
	case itemJournal, itemStream:
		name := jwire.CmdData
		if it.kind == itemStream {
			name = jwire.CmdStream
		}
		if err := conn.WriteCommand(name, it.msg.Frames[0]); err != nil {
			return err
		}
		return conn.WriteMsg(Msg{Frames: it.msg.Frames[1:]})
	case itemRunMsg:
		return conn.WriteMsg(it.msg)
	}
	return nil
}

// fail puts everything written since the last flush back in front of the
// pipe's queue and returns err, but for the items the connection says
// went out whole (WriteCounter): those are settled as sent, so the next
// peer does not get them again.
func (w *pipeWriter) fail(err error) error {
	var items []outItem
	for _, u := range w.pending {
		items = append(items, u.batch[u.from:]...)
	}
	if w.wc != nil {
		out := w.wc.Written() - w.base
		n := 0
		for n < len(items) && uint64(items[n].calls()) <= out {
			out -= uint64(items[n].calls())
			n++
		}
		w.settleOut(items[:n])
		items = items[n:]
	}
	w.p.requeue(items)
	return err
}

// settleOut settles items that went out whole before a write failed and
// gives their room back.
func (w *pipeWriter) settleOut(items []outItem) {
	held := 0
	for _, it := range items {
		if it.kind == itemData {
			held++
		}
	}
	if len(items) == 0 {
		return
	}
	w.settle(items)
	w.held -= held
	if w.p.release(held) {
		w.p.s.pipeWritable(w.p)
	}
}

// calls is how many Conn write calls write makes for the item.
func (it *outItem) calls() int {
	if it.kind == itemJournal || it.kind == itemStream {
		return 2
	}
	return 1
}

// flush flushes the connection and recycles every pending batch.
func (w *pipeWriter) flush() error {
	if err := w.conn.Flush(); err != nil {
		return w.fail(err)
	}
	w.flushed()
	return nil
}

// flushed settles and recycles every pending batch once they are flushed.
func (w *pipeWriter) flushed() {
	for _, u := range w.pending {
		w.settle(u.batch[u.from:])
		w.free = append(w.free, u.batch[:0])
	}
	clear(w.pending)
	w.pending = w.pending[:0]
	w.done()
}

// flushBefore flushes while the last pending batch is in progress: its
// items before index i have been written and are settled by the flush;
// the rest stays pending.
func (w *pipeWriter) flushBefore(i int) error {
	last := len(w.pending) - 1
	cur := w.pending[last]
	if err := w.conn.Flush(); err != nil {
		return w.fail(err)
	}
	for _, u := range w.pending[:last] {
		w.settle(u.batch[u.from:])
		w.free = append(w.free, u.batch[:0])
	}
	w.settle(cur.batch[cur.from:i])
	clear(w.pending)
	w.pending = append(w.pending[:0], unflushed{batch: cur.batch, from: i})
	w.done()
	return nil
}

// settle accounts for flushed items and lets go of them, so the pipe
// keeps no message alive once it has left.
func (w *pipeWriter) settle(items []outItem) {
	w.p.sent.Add(uint64(countData(items)))
	clear(items)
}

// done gives the room of the data messages flushed back to the pipe.
func (w *pipeWriter) done() {
	if w.wc != nil {
		w.base = w.wc.Written()
	}
	w.bytes = 0
	n := w.held
	w.held = 0
	if w.p.releaseFlushed(n) {
		w.p.s.pipeWritable(w.p)
	}
}

// wireSize estimates an item's bytes on the wire: its frames with their
// longest headers.
func (it *outItem) wireSize() int {
	if it.kind == itemSubscribe || it.kind == itemCancel {
		return len(it.msg.Frames[0]) + 16
	}
	n := 0
	for _, f := range it.msg.Frames {
		n += len(f) + 9
	}
	return n
}

// The writer flushes before flushBytes are buffered, safely below the
// connection's write buffer (64 KiB for ZMTP), so the buffer never
// flushes on its own and the writer always knows what has left.
const flushBytes = 32 << 10

// countData counts the messages among items (plain and journaled).
func countData(items []outItem) int {
	n := 0
	for _, it := range items {
		if it.kind == itemData || it.kind == itemJournal || it.kind == itemStream || it.kind == itemRunMsg {
			n++
		}
	}
	return n
}
