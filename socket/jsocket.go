package socket

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/brookmq/brook/durable"
	"github.com/brookmq/brook/patterns"
	"github.com/brookmq/brook/socket/internal/jwire"
	"github.com/brookmq/brook/transport"
)

// receivesJournaled reports whether sockets of type t take part in the
// journal profile as receivers.
func receivesJournaled(t Type) bool {
	switch t {
	case Pull, Dealer, Router, Sub, XSub:
		return true
	}
	return false
}

// streams reports whether sockets of type t take part in the stream
// model (a journaled publisher's subscribers).
func streams(t Type) bool { return t == Sub || t == XSub }

// checkFor refuses journal options on socket types they do not apply to.
func (o *journalOptions) checkFor(t Type) error {
	journaled := o.log != nil || o.dir != ""
	switch {
	case journaled && t != Push && t != Dealer && t != Pub && t != XPub:
		return fmt.Errorf("%w: a journal is for PUSH and DEALER (the queue model) and PUB and XPUB (the stream model), not %s", ErrBadOption, t)
	case o.dedupDir != "" && (!receivesJournaled(t) || streams(t)):
		return fmt.Errorf("%w: a dedup store is for PULL, DEALER and ROUTER, not %s (a SUB keeps positions: WithPositionStore)", ErrBadOption, t)
	case o.positions != "" && !streams(t):
		return fmt.Errorf("%w: a position store is for SUB and XSUB, not %s", ErrBadOption, t)
	case o.start != (Start{}) && !streams(t):
		return fmt.Errorf("%w: WithStart is for SUB and XSUB, not %s", ErrBadOption, t)
	case (o.maxDeliver > 0 || o.ackTimeout != DefaultAckTimeout) && t != Push && t != Dealer:
		return fmt.Errorf("%w: acknowledgement options are for journaled PUSH and DEALER, not %s", ErrBadOption, t)
	}
	return nil
}

// openJournal sets up the journal profile's parts for this socket and
// returns the READY properties: the application's plus X-Brook-Journal.
func (s *Socket) openJournal() (map[string][]byte, error) {
	o := s.opts.journal
	var hello *jwire.Hello
	if o.log != nil || o.dir != "" {
		publishes := s.typ == Pub || s.typ == XPub
		j, err := openJournal(o, !publishes)
		if err != nil {
			return nil, err
		}
		s.jnl = j
		if publishes {
			s.jp = newPublisher(s, j)
		} else {
			q, err := newQSender(s, j)
			if err != nil {
				j.close()
				return nil, err
			}
			s.jq = q
		}
		h := j.hello(publishes)
		hello = &h
	}
	if receivesJournaled(s.typ) {
		var store ackStore
		if dir := o.dedupDir + o.positions; dir != "" {
			var err error
			if store, err = openAckStore(dir); err != nil {
				if s.jnl != nil {
					s.jnl.close()
				}
				return nil, fmt.Errorf("%w: journal store %s: %w", ErrBadOption, dir, err)
			}
		}
		s.jr = newReceiver(s, store, streams(s.typ), o.start, o.autoCommit)
		if hello == nil {
			hello = &jwire.Hello{}
		}
		if s.jr.stream {
			hello.Flags |= jwire.FlagRuns
		}
	}
	props := maps.Clone(s.opts.properties)
	if hello != nil {
		if props == nil {
			props = make(map[string][]byte, 1)
		}
		props[jwire.Property] = jwire.AppendHello(nil, *hello)
	}
	return props, nil
}

// startJournal starts the journal's goroutines once the socket is built.
func (s *Socket) startJournal() {
	if s.jq != nil {
		s.jq.start()
	}
}

// lingerJournal gives what a closing socket has in flight a chance to be
// acknowledged (so a restarted sender need not deliver it again), and
// hands the receiver's last acknowledgements to the pipes, within ctx.
func (s *Socket) lingerJournal(ctx context.Context) {
	if s.jq != nil {
		s.jq.drain(ctx)
	}
	if s.jr != nil {
		s.jr.flushNow(ctx)
	}
}

// closeJournal stops the journal's goroutines and closes what the socket
// owns.
func (s *Socket) closeJournal() error {
	var errs []error
	if s.jq != nil {
		if err := s.jq.close(); err != nil && !errors.Is(err, durable.ErrClosed) {
			errs = append(errs, err)
		}
	}
	if s.jp != nil {
		s.jp.close()
	}
	if s.jr != nil {
		errs = append(errs, s.jr.close())
	}
	if s.jnl != nil {
		errs = append(errs, s.jnl.close())
	}
	return errors.Join(errs...)
}

// journalStats fills the profile's counters (nil when the socket takes no
// part in it).
func (s *Socket) journalStats() *JournalStats {
	if s.jnl == nil && s.jr == nil {
		return nil
	}
	st := &JournalStats{}
	if s.jq != nil {
		*st = s.jq.stats()
	}
	if s.jp != nil {
		s.jp.stats(st)
	}
	if s.jnl != nil {
		st.ID = s.jnl.id
		st.Epoch = s.jnl.epoch()
		st.End = s.jnl.log.End()
	}
	if s.jr != nil {
		s.jr.stats(st)
	}
	return st
}

// SendAsync journals m and returns at once, before it is durable: one
// goroutine can so keep many messages in flight and reach the journal's
// group-commit throughput. Pending.Wait tells when m is durable; until
// then a crash may lose it. It needs a journal (ErrNotJournaled) and
// blocks only while the journal's queue is full, or until ctx ends.
func (s *Socket) SendAsync(ctx context.Context, m Msg, opts ...SendOption) (Pending, error) {
	if s.closing.Load() {
		return Pending{}, ErrClosed
	}
	if s.jnl == nil {
		return Pending{}, fmt.Errorf("%w: SendAsync on a %s without WithJournal", ErrNotJournaled, s.typ)
	}
	if len(m.Frames) == 0 {
		return Pending{}, ErrEmptyMsg
	}
	var o sendOpts
	if len(opts) > 0 {
		o = applySendOpts(opts)
	}
	if s.jp != nil {
		if !o.notBefore.IsZero() {
			return Pending{}, fmt.Errorf("%w: NotBefore on a %s (a stream is not delayed)", ErrNotSupported, s.typ)
		}
		off, err := s.jp.send(ctx, m, false)
		if err != nil {
			return Pending{}, journalError(err)
		}
		s.ctr.sent.Add(1)
		// Made in place of the result: a Pending copied through the
		// stack stalls on store forwarding, once per message.
		j := s.jnl
		return Pending{id: MsgID{Journal: j.id, Epoch: j.epoch(), Offset: off}, log: j.log}, nil
	}
	p, err := s.jq.send(ctx, m, o)
	if err != nil {
		return Pending{}, journalError(err)
	}
	s.ctr.sent.Add(1)
	return p, nil
}

// CommitPositions makes a SUB or XSUB's stream positions durable in its
// position store now (WithPositionStore); they are also committed every
// interval and on Close.
func (s *Socket) CommitPositions() error {
	if s.jr == nil || !s.jr.stream || s.jr.store == nil {
		return fmt.Errorf("%w: CommitPositions needs a SUB or XSUB WithPositionStore", ErrNotJournaled)
	}
	return s.jr.commitPositions()
}

// WaitAcked blocks until every message sent before the call (Send or
// SendAsync, durable or not yet) and every one the journal held has been
// acknowledged by a receiver (or dead-lettered, or reported lost), or ctx
// ends. It needs a journal (ErrNotJournaled).
func (s *Socket) WaitAcked(ctx context.Context) error {
	if s.jq == nil {
		return fmt.Errorf("%w: WaitAcked on a %s without WithJournal (queue model)", ErrNotJournaled, s.typ)
	}
	return s.jq.waitAcked(ctx, max(s.jnl.log.End(), s.jq.sent.Load()))
}

// RecvDelivery is Recv for a receiver of journaled messages: it returns
// the message with its id, delivery count and journal time, and leaves
// acknowledging it to the application (Delivery.Ack after processing, or
// Nack). A message from a sender without a journal comes with a zero ID.
func (s *Socket) RecvDelivery(ctx context.Context) (*Delivery, error) {
	if s.closing.Load() {
		return nil, ErrClosed
	}
	if s.rcv == nil {
		return nil, fmt.Errorf("%w: Recv on %s", ErrNotSupported, s.typ)
	}
	for {
		r, err := s.rcv.Recv(ctx)
		if err != nil {
			if errors.Is(err, transport.ErrClosed) || s.closing.Load() {
				return nil, ErrClosed
			}
			return nil, err
		}
		d := newDelivery(r)
		if s.jr != nil {
			if d = s.jr.delivery(r); d == nil {
				continue // acknowledged by another receiver meanwhile
			}
		}
		s.ctr.received.Add(1)
		return d, nil
	}
}

// newDelivery is a Delivery of a message without journal facts.
func newDelivery(r patterns.Received) *Delivery {
	d := &Delivery{Msg: r.Msg}
	if r.Pipe != nil {
		d.Peer = r.Pipe.Peer()
	}
	return d
}

// journalConn prepares a connection that completed its handshake: when
// both sides speak the journal profile it installs the command handler
// and returns the connection's profile state (nil otherwise: a plain
// ZeroMQ connection).
func (s *Socket) journalConn(p *pipe, conn transport.Conn) *connState {
	if s.jnl == nil && s.jr == nil {
		return nil
	}
	v, ok := p.Peer().Property(jwire.Property)
	if !ok {
		return nil
	}
	h, err := jwire.ParseHello(v)
	if err != nil {
		s.log.Debug("journal profile not used", "peer", p.Peer().RemoteAddr, "err", err)
		return nil
	}
	cs := &connState{hello: h}
	conn.SetCommandHandler(func(name string, data []byte) error {
		return s.journalCommand(p, cs, name, data)
	})
	return cs
}

// journalCommand acts on a journal profile command from p's peer.
func (s *Socket) journalCommand(p *pipe, cs *connState, name string, data []byte) error {
	switch name {
	case jwire.CmdData:
		if s.jr == nil || s.jr.stream || !cs.hello.HasJournal() {
			return fmt.Errorf("%w: JDATA from a peer without a journal, or to a socket that takes no queue", transport.ErrProtocol)
		}
		if cs.hasData {
			return fmt.Errorf("%w: JDATA without its message", transport.ErrProtocol)
		}
		d, err := jwire.ParseData(data)
		if err != nil {
			return fmt.Errorf("%w: %w", transport.ErrProtocol, err)
		}
		cs.data, cs.hasData = d, true
	case jwire.CmdAck:
		if s.jq == nil {
			return fmt.Errorf("%w: JACK to a socket without a journal", transport.ErrProtocol)
		}
		seq, rs, err := jwire.ParseAck(data)
		if err != nil {
			return fmt.Errorf("%w: %w", transport.ErrProtocol, err)
		}
		s.jq.ack(p, seq, rs)
	case jwire.CmdDone:
		if s.jr == nil || !cs.hello.HasJournal() {
			return fmt.Errorf("%w: JDONE from a peer without a journal", transport.ErrProtocol)
		}
		seq, err := jwire.ParseDone(data)
		if err != nil {
			return fmt.Errorf("%w: %w", transport.ErrProtocol, err)
		}
		s.jr.confirmed(cs.hello, seq)
	case jwire.CmdRevoke:
		if s.jr == nil || !cs.hello.HasJournal() {
			return fmt.Errorf("%w: JREVOKE from a peer without a journal", transport.ErrProtocol)
		}
		rs, err := jwire.ParseRanges(data)
		if err != nil {
			return fmt.Errorf("%w: %w", transport.ErrProtocol, err)
		}
		return s.jr.revoked(cs.hello, rs)
	case jwire.CmdNack:
		if s.jq == nil {
			return fmt.Errorf("%w: JNACK to a socket without a journal", transport.ErrProtocol)
		}
		delay, rs, err := jwire.ParseNack(data)
		if err != nil {
			return fmt.Errorf("%w: %w", transport.ErrProtocol, err)
		}
		s.jq.nack(p, delay, rs)
	case jwire.CmdSub:
		if s.jp == nil {
			return fmt.Errorf("%w: JSUB to a socket that publishes no journal", transport.ErrProtocol)
		}
		sub, err := jwire.ParseSub(data)
		if err != nil {
			return fmt.Errorf("%w: %w", transport.ErrProtocol, err)
		}
		return s.jp.start(p, sub)
	case jwire.CmdStart, jwire.CmdStream, jwire.CmdRun, jwire.CmdSkip:
		return s.streamCommand(p, cs, name, data)
	default:
		s.log.Debug("journal profile: ignoring command", "command", name)
	}
	return nil
}

// streamCommand acts on a publisher's stream commands.
func (s *Socket) streamCommand(p *pipe, cs *connState, name string, data []byte) error {
	if s.jr == nil || !s.jr.stream || !cs.hello.Publisher() {
		return fmt.Errorf("%w: %s from a peer that publishes no journal, or to a socket that does not subscribe", transport.ErrProtocol, name)
	}
	switch name {
	case jwire.CmdStart:
		info, err := jwire.ParseStart(data)
		if err != nil {
			return fmt.Errorf("%w: %w", transport.ErrProtocol, err)
		}
		if cs.started {
			return fmt.Errorf("%w: a second JSTART", transport.ErrProtocol)
		}
		cs.started = true
		return s.jr.streamStart(p, cs.hello, info)
	case jwire.CmdStream, jwire.CmdRun:
		if !cs.started || cs.reader == nil {
			return fmt.Errorf("%w: %s before JSTART", transport.ErrProtocol, name)
		}
		at := cs.reader.MsgsRead()
		if n := len(cs.ahead); n > 0 && cs.ahead[n-1].at >= at {
			return fmt.Errorf("%w: %s before the messages of the one ahead of it", transport.ErrProtocol, name)
		}
		var err error
		cs.runBuf = cs.runBuf[:0]
		if name == jwire.CmdStream {
			var st jwire.Stream
			st, err = jwire.ParseStream(data)
			cs.runBuf = append(cs.runBuf, st)
		} else {
			cs.runBuf, err = jwire.ParseRun(cs.runBuf, data)
		}
		if err != nil {
			return fmt.Errorf("%w: %w", transport.ErrProtocol, err)
		}
		// The offsets passed over precede messages not taken yet, and
		// were never sent: they may be settled at once.
		var skips []jwire.Range
		for i, st := range cs.runBuf {
			if st.Skip > 0 {
				skips = append(skips, jwire.Range{Lo: st.Offset - st.Skip, Hi: st.Offset})
			}
			cs.ahead = append(cs.ahead, streamAhead{at: at + uint64(i),
				data: jwire.Data{Offset: st.Offset, Epoch: st.Epoch, Count: 1, Time: st.Time}})
		}
		if len(skips) > 0 {
			return s.jr.skipped(cs.hello, skips)
		}
	case jwire.CmdSkip:
		rs, err := jwire.ParseRanges(data)
		if err != nil {
			return fmt.Errorf("%w: %w", transport.ErrProtocol, err)
		}
		return s.jr.skipped(cs.hello, rs)
	}
	return nil
}

// journalConnected and journalDisconnected tell the journal's sender that
// a peer came or went; a subscriber asks a journaled publisher for its
// stream.
func (s *Socket) journalConnected(p *pipe, cs *connState) {
	if s.jq != nil {
		s.jq.attach(p, cs != nil)
	}
	if s.jp != nil {
		if cs != nil {
			s.jp.attach(p, cs.hello.Runs())
		} else {
			s.jp.attachPlain(p)
		}
	}
	if cs != nil && cs.hello.HasJournal() && !cs.hello.Publisher() && s.jr != nil && !s.jr.stream {
		s.jr.senderConnected(p, cs.hello)
	}
	if cs != nil && cs.hello.Publisher() && s.jr != nil && s.jr.stream {
		if p.lastJournal != (durable.JournalID{}) && p.lastJournal != cs.hello.Journal {
			s.mon.emit(Event{Type: EventJournalChanged, Endpoint: p.endpoint,
				Err: fmt.Errorf("brook: the publisher at %s has a new journal %s (was %s)", p.endpoint, cs.hello.Journal, p.lastJournal)})
		}
		p.lastJournal = cs.hello.Journal
		sub, err := s.jr.streamSub(cs.hello)
		if err != nil {
			s.log.Warn("journal position", "err", err)
			return
		}
		p.sendCommand(jwire.CmdSub, jwire.AppendSub(nil, sub))
	}
}

func (s *Socket) journalDisconnected(p *pipe) {
	if s.jq != nil {
		s.jq.detach(p)
	}
	if s.jr != nil {
		s.jr.connectionLost(p)
	}
	if s.jp != nil {
		s.jp.detach(p)
	}
}

// journalInbound lets a journaled publisher see the subscriptions of the
// subscribers it serves from the journal (the pattern sees them too).
func (s *Socket) journalInbound(p *pipe, cs *connState, m Msg) {
	if s.jp != nil && cs != nil {
		s.jp.subscription(p, m)
	}
}

// pipeWritable tells whoever waits for room in p that it has some.
func (s *Socket) pipeWritable(p *pipe) {
	if s.waker != nil {
		s.waker.Writable(p)
	}
	if s.jq != nil {
		s.jq.writable(p)
	}
	if s.jp != nil {
		s.jp.writable(p)
	}
}
