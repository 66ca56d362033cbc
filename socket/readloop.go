package socket

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/brookmq/brook/patterns"
	"github.com/brookmq/brook/socket/internal/jwire"
	"github.com/brookmq/brook/transport"
)

// batchReader is implemented by connections that return the messages
// that have already arrived several at a time (zmtp, inproc).
type batchReader interface {
	ReadMsgs(dst []Msg, max int) ([]Msg, error)
}

// maxReadBatch bounds the messages a reader hands over at once, so the
// application sees the first of them soon.
const maxReadBatch = 128

// batchReading says whether conn's messages can go to the pattern in
// batches: plain connections (no journal profile, whose commands travel
// with the messages) to patterns that take batches.
func (s *Socket) batchReading(conn transport.Conn, cs *connState) (batchReader, patterns.BatchInbound, bool) {
	if cs != nil {
		return nil, nil, false
	}
	r, ok := conn.(batchReader)
	if !ok {
		return nil, nil, false
	}
	in, ok := s.pat.(patterns.BatchInbound)
	return r, in, ok
}

// readBatches is runConn's read loop for batches: it waits for room in
// the pattern, reads at most that many messages that have arrived, and
// hands them over at once. A closing socket's pattern takes nothing: what
// still arrives is read (the linger waits for the peer to hang up) and
// dropped as unread. It returns why reading ended.
//
// On a socket that receives inline (a queue socket: inlinerecv.go) it
// hands its reading role to the application after a batch of small
// messages, when its pipe is the socket's only one, and waits to have it
// back: the application's Recv then reads the connection itself whenever
// nothing is queued, and a stream of small messages is read, parsed and
// taken on one goroutine, as in a bare loop over a net.Conn.
func (s *Socket) readBatches(ctx context.Context, p *pipe, r batchReader, in patterns.BatchInbound) error {
	if d, ok := r.(directReader); ok {
		if din, ok := in.(patterns.SourceInbound); ok {
			if done, err := s.readDirect(ctx, p, d, din); done {
				return err
			}
		}
	}
	var ir inlineReader
	limit := 0 // the largest message after which ir is handed over
	if s.rx != nil && s.rx.queue {
		if c, ok := r.(inlineReader); ok && c.InlineReadable() {
			ir, limit = c, inlineLimit(c)
		}
	}
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	batch := make([]Msg, 0, 16)
	for {
		room, err := in.Room(ctx, p)
		closing := err != nil && s.closing.Load() && errors.Is(err, transport.ErrClosed)
		if err != nil && !closing {
			return err
		}
		if closing {
			room = maxReadBatch
		}
		batch, err = r.ReadMsgs(batch[:0], min(room, maxReadBatch))
		if err != nil {
			return err
		}
		p.received.Add(uint64(len(batch)))
		// Looked at before the batch is queued: from then on its messages
		// are the application's, which may release them at once.
		small := ir != nil && inlineSized(batch[len(batch)-1], limit)
		if !closing {
			s.rx.queued(len(batch)) // counted before they are queued: see queued
			if err := in.InboundBatch(p, batch); err != nil {
				s.rx.queued(-len(batch))
				if !s.closing.Load() || !errors.Is(err, transport.ErrClosed) {
					return err
				}
				closing = true
			} else {
				if hook := testHookQueued.Load(); hook != nil {
					(*hook)(len(batch))
				}
				s.rx.interrupt() // a Recv reading another pipe inline: these are for it
			}
		}
		if closing {
			s.dropped(p, DropUnread, len(batch))
		}
		clear(batch)
		if !small || closing || !s.handOver(p, ir) {
			continue
		}
		if timer == nil {
			timer = time.NewTimer(s.rx.period)
		} else {
			timer.Reset(s.rx.period)
		}
		s.rx.waitBack(ctx, timer)
	}
}

// roomFirst returns what a connection read one message at a time
// (runConn's loop, readInline) waits on for room before it reads the next
// message: the pattern's RoomWaiter, or none when it must not wait, or
// need not.
//
// It must not on a connection whose journal profile commands travel with
// the messages, for they are read only with them: the acknowledgements
// and credit a socket with a journal gets (JACK, JNACK) would wait behind
// a full queue that the application may empty only once they come (a
// DEALER that sends its window, then reads the replies), and commands a
// journaled sender's data comes with (JDATA, JDONE, JREVOKE) must keep
// being read. A peer that has no journal sends none of them to a socket
// that has none (any would be a protocol error), so only those
// connections wait for room. A journaled sender's messages are tagged and
// bounded by its window instead (see patterns.Tag).
func (s *Socket) roomFirst(cs *connState) roomCredit {
	if s.jnl != nil || (cs != nil && cs.hello.HasJournal()) {
		return roomCredit{}
	}
	w, _ := s.pat.(patterns.RoomWaiter)
	return roomCredit{w: w}
}

// roomCredit is a one-at-a-time reader's room in the pattern: the
// pattern's RoomWaiter (nil: the reader does not wait), and how many more
// messages it may read before it asks again. Only the pipe's reader
// queues messages from it and the application only makes room, so room
// the pattern reported lasts until the reader has read that many; a
// message the pattern drops instead of queueing only makes the reader ask
// sooner.
type roomCredit struct {
	w patterns.RoomWaiter
	n int
}

// waitRoom waits until p may queue one more message in the pattern, and
// takes that room. A closing socket's pattern takes nothing: the reader
// goes on reading, and drops what it reads as unread.
func (s *Socket) waitRoom(ctx context.Context, p *pipe, room *roomCredit) error {
	if room.w == nil {
		return nil
	}
	if room.n > 0 {
		room.n--
		return nil
	}
	n, err := room.w.Room(ctx, p)
	if err != nil {
		if s.closing.Load() && errors.Is(err, transport.ErrClosed) {
			return nil
		}
		return err
	}
	room.n = n - 1
	return nil
}

// testHookQueued, when set by a test, runs in readBatches after a batch
// of n messages is queued.
var testHookQueued atomic.Pointer[func(n int)]

// inlineRecvMax bounds the messages after which a queue socket's reader
// goroutine hands its role over, on a connection that does not say how
// large a message it reads inline (inlineLimiter): a Recv reads inline
// only messages that arrive whole in the read buffer, and a stream of
// larger ones would pass the role back and forth with every batch.
const inlineRecvMax = 8 << 10

// inlineLimiter is a connection that says how large a message it reads
// inline without giving the role back (zmtp reads large single-frame
// messages in part, straight into their bodies).
type inlineLimiter interface {
	InlineMax() int
}

// inlineLimit returns the largest message after which r's role is handed
// over.
func inlineLimit(r inlineReader) int {
	if l, ok := r.(inlineLimiter); ok {
		return l.InlineMax()
	}
	return inlineRecvMax
}

// inlineSized says whether m is small enough to be followed by messages
// a Recv reads inline: at most limit body bytes.
func inlineSized(m Msg, limit int) bool {
	n := 0
	for _, f := range m.Frames {
		n += len(f)
	}
	return n <= limit
}

// directReader is a connection the pattern's consumer may read itself
// (inproc): see patterns.SourceInbound.
type directReader interface {
	patterns.Source
	// WaitReady waits until a message has arrived, without taking it,
	// and fails once the connection is closed and drained.
	WaitReady() error
}

// readDirect is readBatches for a connection the application reads
// itself: a Recv with nothing queued takes what has arrived, and one that
// waits is woken by the peer's write, with no hand-off through this
// goroutine. This goroutine only moves what arrives while nobody waits
// (so the peer still finds room up to the receive HWM), and watches for
// the end of the connection. It reports done false, having read nothing
// it did not queue, when the connection must be read as readBatches
// does: the pattern refused the source, or the socket is closing (what
// still arrives is then read and dropped there).
func (s *Socket) readDirect(ctx context.Context, p *pipe, conn directReader, in patterns.SourceInbound) (done bool, err error) {
	if s.closing.Load() || !in.AttachSource(p, &directSource{conn: conn, p: p}) {
		return false, nil
	}
	defer in.DetachSource(p)
	closed := func(err error) bool { return s.closing.Load() && errors.Is(err, transport.ErrClosed) }
	for {
		if _, err := in.Room(ctx, p); err != nil {
			return !closed(err), err
		}
		if err := conn.WaitReady(); err != nil {
			return true, err
		}
		n, err := in.Pull(p)
		if err != nil {
			return !closed(err), err
		}
		if n > 0 {
			s.rx.interrupt() // a Recv reading another pipe inline: these are for it
		}
	}
}

// directSource is a directReader as the pattern reads it: what it takes
// counts as received on its pipe.
type directSource struct {
	conn directReader
	p    *pipe
}

func (d *directSource) TakeReady(dst []Msg, max int) ([]Msg, int, error) {
	n := len(dst)
	dst, credited, err := d.conn.TakeReady(dst, max)
	d.p.received.Add(uint64(len(dst) - n))
	return dst, credited, err
}

func (d *directSource) Ready() bool         { return d.conn.Ready() }
func (d *directSource) Settle(n int)        { d.conn.Settle(n) }
func (d *directSource) SetNotify(fn func()) { d.conn.SetNotify(fn) }
func (d *directSource) Arm() bool           { return d.conn.Arm() }
func (d *directSource) Disarm()             { d.conn.Disarm() }

// streamReading says whether conn carries a journaled publisher's stream
// to this subscriber, and prepares cs for readStream if so. A connection
// that reads in batches and lets JSTREAM, JRUN and JSKIP through them
// (transport.CommandBatcher) is read in batches; any other one message
// at a time, through the same loop.
func (s *Socket) streamReading(conn transport.Conn, cs *connState) (batchReader, patterns.TaggedBatchInbound, bool) {
	if cs == nil || s.jr == nil || !s.jr.stream || s.jp != nil || !cs.hello.Publisher() {
		return nil, nil, false
	}
	in, ok := s.pat.(patterns.TaggedBatchInbound)
	if !ok {
		return nil, nil, false
	}
	r, batches := conn.(batchReader)
	cb, commands := conn.(transport.CommandBatcher)
	if !batches || !commands {
		one := &oneByOne{conn: conn}
		r, cb = one, one
	}
	cs.reader = cb
	cb.SetBatchedCommands(streamBatched)
	return r, in, true
}

// oneByOne reads a connection that cannot batch as readStream expects:
// one message per batch, counted.
type oneByOne struct {
	conn transport.Conn
	read uint64
}

func (o *oneByOne) ReadMsgs(dst []Msg, _ int) ([]Msg, error) {
	m, err := o.conn.ReadMsg()
	if err != nil {
		return dst, err
	}
	o.read++
	return append(dst, m), nil
}

func (o *oneByOne) SetBatchedCommands(func([]byte) bool) {}
func (o *oneByOne) MsgsRead() uint64                     { return o.read }

// streamBatched names the stream commands a batch reads on past: JSTREAM
// and JRUN (readStream pairs their records with their messages by
// number) and JSKIP (it settles offsets that were never sent, so it may
// come into force before the messages ahead of it are taken).
func streamBatched(name []byte) bool {
	switch string(name) {
	case jwire.CmdStream, jwire.CmdRun, jwire.CmdSkip:
		return true
	}
	return false
}

// readStream is runConn's read loop for a journaled publisher's stream:
// it waits for room in the connection's window of messages not yet
// taken, reads at most that many that have arrived, pairs each with its
// JSTREAM and hands them to the pattern at once: one lock of the receiver
// and one of the pattern per batch. A closing socket's pattern takes
// nothing: what still arrives is read and dropped as unread.
func (s *Socket) readStream(p *pipe, cs *connState, r batchReader, in patterns.TaggedBatchInbound) error {
	batch := make([]Msg, 0, 16)
	tags := make([]patterns.Tag, 0, 16)
	for {
		room, err := s.jr.streamRoom(cs)
		if err != nil {
			return err
		}
		base := cs.reader.MsgsRead()
		batch, err = r.ReadMsgs(batch[:0], min(room, maxReadBatch))
		if err != nil {
			return err
		}
		read := len(batch)
		p.received.Add(uint64(read))
		batch, tags, err = s.jr.receiveStream(p, cs, base, batch, tags[:0])
		if err != nil {
			return err
		}
		if len(batch) > 0 {
			if err := in.InboundTagged(p, batch, tags); err != nil {
				if !s.closing.Load() || !errors.Is(err, transport.ErrClosed) {
					return err
				}
				s.dropped(p, DropUnread, len(batch))
			}
			s.rx.interrupt() // a Recv reading another pipe inline: these are for it
		}
		clear(batch[:read])
	}
}
