package inproc

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/brookmq/brook/transport"
)

// pair is the shared state of one connection: a queue per direction, the
// handshake mailboxes and the close signal. Side 0 is the dialer, side 1
// the accepter.
type pair struct {
	addr  string        // "inproc://name", both ends' address
	q     [2]queue      // q[i] carries messages to side i
	hello [2]chan hello // hello[i] carries side i's handshake (capacity 1)
	done  chan struct{} // closed when either side closes
	once  sync.Once
	// abandoned is set when a side's Handshake fails, so the other side
	// does not take the announcement that side left behind for success.
	abandoned atomic.Bool
}

// newPair returns the two ends of a fresh connection to name.
func newPair(name string) (dialer, accepter *Conn) {
	p := &pair{addr: "inproc://" + name, done: make(chan struct{})}
	for i := range p.q {
		p.q[i].init()
		p.hello[i] = make(chan hello, 1)
	}
	return p.end(0), p.end(1)
}

func (p *pair) end(side int) *Conn {
	return &Conn{
		p:     p,
		side:  side,
		in:    &p.q[side],
		out:   &p.q[1-side],
		batch: make([]slot, 0, queueStart),
	}
}

// close shuts both directions; what is queued stays readable by the side
// that did not close.
func (p *pair) close() {
	p.once.Do(func() {
		p.q[0].close()
		p.q[1].close()
		close(p.done)
	})
}

// Conn is one end of an inproc connection. It implements transport.Conn:
// after Handshake, one goroutine may call ReadMsg while another calls
// WriteMsg, WriteSubscription and Flush; Close may be called from any
// goroutine at any time.
type Conn struct {
	p    *pair
	side int
	in   *queue // what the peer writes to us
	out  *queue // what we write to the peer

	// batch, next and credit belong to the reading goroutine: the
	// messages taken from in by the last swap, the index of the next one
	// to return, and the peer's credit function as of that swap.
	batch  []slot
	next   int
	credit func(n int)
	// ready and settle belong to the caller of TakeReady (source.go): its
	// scratch slots and the peer's credit function as of its last take.
	ready  []slot
	settle func(n int)
	room   func() // the writer's gate room function, due at the next Settle

	closed  atomic.Bool // Close was called on this end
	started atomic.Bool // Handshake was called

	onCommand transport.CommandHandler // read by the reading goroutine only
	batched   func(name []byte) bool   // commands ReadMsgs reads on past (reading goroutine)
	msgsRead  uint64                   // messages ReadMsgs read (reading goroutine)
	wclosed   atomic.Bool              // CloseWrite was called on this end
}

// ReadMsg returns the next message the peer wrote, waiting for one if
// need be. After the peer closes, it still returns everything the peer
// wrote before closing, then an error matching transport.ErrClosed. After
// Close on this end it returns transport.ErrClosed at once. ReadMsg must
// not be called by two goroutines at the same time.
func (c *Conn) ReadMsg() (transport.Msg, error) {
	m, kind, _, err := c.nextMsg(true)
	c.settleKind(kind)
	return m, err
}

// settleKind reports one message returned as taken, as its kind says.
func (c *Conn) settleKind(kind uint8) {
	switch kind {
	case slotCredited:
		c.credit(1)
	case slotGated:
		c.in.takenGated(1)
	}
}

// ReadMsgs appends messages to dst: it waits for one as ReadMsg does, then
// adds those already taken from the peer's queue, up to max in all. A
// command the peer wrote ends the batch when a command handler is set, so
// the handler runs only once the messages before it have been taken,
// unless SetBatchedCommands lets it through.
func (c *Conn) ReadMsgs(dst []transport.Msg, max int) ([]transport.Msg, error) {
	m, kind, _, err := c.nextMsg(true)
	if err != nil {
		return dst, err
	}
	c.msgsRead++
	dst = append(dst, m)
	var n [3]int // by slot kind
	n[kind]++
	for len(dst) < max {
		m, kind, ok, err := c.nextMsg(false)
		if !ok || err != nil {
			break // a failure is reported by the next call
		}
		c.msgsRead++
		dst = append(dst, m)
		n[kind]++
	}
	if n[slotCredited] > 0 {
		c.credit(n[slotCredited])
	}
	c.in.takenGated(n[slotGated])
	return dst, nil
}

// SetBatchedCommands implements transport.CommandBatcher: ReadMsgs reads
// on past the commands for which batched reports true.
func (c *Conn) SetBatchedCommands(batched func(name []byte) bool) { c.batched = batched }

// MsgsRead implements transport.CommandBatcher: the messages ReadMsgs has
// read, the batch being made included.
func (c *Conn) MsgsRead() uint64 { return c.msgsRead }

var _ transport.CommandBatcher = (*Conn)(nil)

// nextMsg returns the next message and its slot kind (the caller reports
// a credited one to c.credit, a gated one to the queue). Without wait it
// returns ok false instead of taking more from the peer's queue, or
// before a command when a handler is set.
func (c *Conn) nextMsg(wait bool) (m transport.Msg, kind uint8, ok bool, err error) {
	for {
		if c.closed.Load() {
			return transport.Msg{}, slotPlain, false, transport.ErrClosed
		}
		if c.next == len(c.batch) {
			if !wait {
				return transport.Msg{}, slotPlain, false, nil
			}
			b, credit, err := c.in.take(c.batch[:0])
			c.batch, c.next, c.credit = b, 0, credit
			if err != nil {
				if c.closed.Load() {
					return transport.Msg{}, slotPlain, false, transport.ErrClosed
				}
				return transport.Msg{}, slotPlain, false, errPeerClosed
			}
		}
		s := c.batch[c.next]
		m := s.m
		name, data, isCmd := parseCommand(m)
		if isCmd && !wait && c.onCommand != nil && (c.batched == nil || !c.batched(m.Frames[1])) {
			return transport.Msg{}, slotPlain, false, nil
		}
		c.batch[c.next] = slot{} // let the frames go once the caller drops them
		c.next++
		if !isCmd {
			return m, s.kind, true, nil
		}
		if c.onCommand == nil {
			continue
		}
		if err := c.onCommand(name, data); err != nil {
			c.Close()
			return transport.Msg{}, slotPlain, false, fmt.Errorf("inproc: %s command on %s: %w", name, c.p.addr, err)
		}
	}
}

// SetCommandHandler installs h for the commands the peer writes with
// WriteCommand; call it after Handshake and before the first ReadMsg.
func (c *Conn) SetCommandHandler(h transport.CommandHandler) { c.onCommand = h }

// WriteCommand hands the peer a command (name and a copy of data), in
// order with the messages around it. The name and size are checked with
// transport.CheckCommand.
func (c *Conn) WriteCommand(name string, data []byte) error {
	if err := transport.CheckCommand(name, data); err != nil {
		return err
	}
	return c.write(commandMsg(name, data))
}

// WriteMsg hands m to the peer: the peer's ReadMsg returns this very Msg,
// frames not copied, and the caller must not touch them afterwards.
// WriteMsg blocks while QueueCapacity messages wait unread, and fails with
// an error matching transport.ErrClosed once either side has closed. A
// message without frames is refused with ErrNoFrames. Beyond what
// transport.Conn requires, several goroutines may write at once; each
// one's messages keep their order.
func (c *Conn) WriteMsg(m transport.Msg) error {
	if len(m.Frames) == 0 {
		return ErrNoFrames
	}
	return c.write(m)
}

// TryWriteMsg hands m to the peer as WriteMsg does, but never waits: it
// reports false, and keeps nothing, when QueueCapacity messages already
// wait unread. It fails as WriteMsg does. Several goroutines may call it,
// and WriteMsg and WriteMsgs, at once.
func (c *Conn) TryWriteMsg(m transport.Msg) (bool, error) {
	if len(m.Frames) == 0 {
		return false, ErrNoFrames
	}
	if c.wclosed.Load() {
		return false, c.writeClosed()
	}
	ok, err := c.out.tryPush(m)
	if err != nil {
		return false, c.pushFailed()
	}
	return ok, nil
}

// WriteMsgs hands the peer a prefix of msgs under one lock, as WriteMsg
// does for each, and returns how many it took: as many as there is room
// for, waiting only while the peer has QueueCapacity messages unread, so
// at least one unless it fails. Every message must have frames. The
// caller must not touch the messages taken afterwards. It fails as
// WriteMsg does, having taken none.
func (c *Conn) WriteMsgs(msgs []transport.Msg) (int, error) {
	for _, m := range msgs {
		if len(m.Frames) == 0 {
			return 0, ErrNoFrames
		}
	}
	if c.wclosed.Load() {
		return 0, c.writeClosed()
	}
	n, err := c.out.pushSome(msgs)
	if err != nil {
		return 0, c.pushFailed()
	}
	return n, nil
}

// SetCredit has the peer's reader report the messages it takes: from
// then on, each message written with TryWriteMsg or WriteMsgs is
// credited, and fn(n) is called, on the peer's reading goroutine and
// with no lock held, once ReadMsg or ReadMsgs has returned n of them.
// Messages written with WriteMsg, WriteCommand or WriteSubscription are
// not credited. A writer that keeps counting the messages it wrote until
// they are credited back bounds what waits in this connection for the
// peer: its own high-water mark then covers the connection too. fn may
// be called after Close, for messages the peer reads after it; messages
// the peer never reads are never credited. Call SetCredit before the
// first credited write; fn must not block.
func (c *Conn) SetCredit(fn func(n int)) { c.out.setCredit(fn) }

func (c *Conn) writeClosed() error {
	return fmt.Errorf("%w: inproc connection %s is closed for writing", transport.ErrClosed, c.p.addr)
}

// pushFailed is the error of a write into a closed queue: this end, or
// the peer, closed.
func (c *Conn) pushFailed() error {
	if c.closed.Load() {
		return transport.ErrClosed
	}
	return errPeerClosed
}

// write pushes m to the peer's queue.
func (c *Conn) write(m transport.Msg) error {
	if c.wclosed.Load() {
		return c.writeClosed()
	}
	if err := c.out.push(m); err != nil {
		return c.pushFailed()
	}
	return nil
}

// WriteSubscription sends a subscription (or its cancellation) for topic
// as a ZMTP 3.0 subscription message, the form ReadMsg delivers on every
// transport. The topic is copied.
func (c *Conn) WriteSubscription(topic []byte, subscribe bool) error {
	return c.WriteMsg(transport.SubscriptionMsg(topic, subscribe))
}

// Flush does nothing: WriteMsg has already delivered the message.
func (c *Conn) Flush() error { return nil }

// Buffered reports false: WriteMsg hands each message to the peer's queue
// at once and keeps nothing for Flush, so a writer may count a message as
// sent as soon as WriteMsg returns.
func (c *Conn) Buffered() bool { return false }

// CloseWrite ends our sending direction: the peer reads what was written,
// then sees the connection end (as after Close), while ReadMsg here goes on
// until the peer closes.
func (c *Conn) CloseWrite() error {
	if c.wclosed.Swap(true) {
		return nil
	}
	c.out.close()
	return nil
}

// Close closes both directions of the connection. The peer can still read
// what was written to it before; everything else fails with an error
// matching transport.ErrClosed. Close is safe to call more than once and
// always returns nil.
func (c *Conn) Close() error {
	c.closed.Store(true)
	c.p.close()
	return nil
}

// LocalAddr returns "inproc://name".
func (c *Conn) LocalAddr() string { return c.p.addr }

// RemoteAddr returns "inproc://name": both ends share the bound name.
func (c *Conn) RemoteAddr() string { return c.p.addr }

var _ transport.Conn = (*Conn)(nil)
