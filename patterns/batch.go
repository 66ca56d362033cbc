package patterns

import "context"

// BatchInbound is implemented by patterns that take inbound messages in
// batches: a pipe's reader asks for Room, reads at most that many
// messages that have already arrived, and hands them over at once, so
// reader and application meet on one lock per batch rather than per
// message. The messages are untagged (a reader with tags uses Inbound),
// and the pattern treats each exactly as Inbound would.
type BatchInbound interface {
	// Room waits until p may queue at least one more message, until ctx
	// ends or the pattern closes (transport.ErrClosed), and returns how
	// many it may queue now.
	Room(ctx context.Context, p Pipe) (int, error)
	// InboundBatch takes messages read from p, no more than Room last
	// allowed. It does not block. When it fails (transport.ErrClosed once
	// the pattern is closed), it has taken or dropped none of them.
	InboundBatch(p Pipe, msgs []Msg) error
}

// TaggedBatchInbound is implemented by patterns that take tagged inbound
// messages in batches (a journaled stream's reader, whose messages each
// carry a tag). Like a tagged Inbound, it does not wait for room: the
// socket bounds what a tagged reader brings (see Tag).
type TaggedBatchInbound interface {
	// InboundTagged takes messages read from p, msgs[i] with tags[i] (0
	// for an untagged message), treating each exactly as Inbound would.
	// It does not block. When it fails (transport.ErrClosed once the
	// pattern is closed), it has taken or dropped none of them. msgs and
	// tags may be reordered in place.
	InboundTagged(p Pipe, msgs []Msg, tags []Tag) error
}

var (
	_ TaggedBatchInbound = (*sub)(nil)
	_ BatchInbound       = (*pull)(nil)
	_ BatchInbound       = (*dealer)(nil)
	_ BatchInbound       = (*pair)(nil)
	_ BatchInbound       = (*sub)(nil)
)

// Room implements BatchInbound.
func (s *pull) Room(ctx context.Context, p Pipe) (int, error) { return s.fq.Room(ctx, p) }

// InboundBatch implements BatchInbound.
func (s *pull) InboundBatch(p Pipe, msgs []Msg) error { return s.fq.PushBatch(p, msgs) }

// Room implements BatchInbound.
func (s *dealer) Room(ctx context.Context, p Pipe) (int, error) { return s.fq.Room(ctx, p) }

// InboundBatch implements BatchInbound.
func (s *dealer) InboundBatch(p Pipe, msgs []Msg) error { return s.fq.PushBatch(p, msgs) }

// Room implements BatchInbound.
func (s *pair) Room(ctx context.Context, p Pipe) (int, error) { return s.fq.Room(ctx, p) }

// InboundBatch implements BatchInbound: a peer PAIR no longer talks to
// has its messages dropped, as in Inbound.
func (s *pair) InboundBatch(p Pipe, msgs []Msg) error {
	if !s.is(p) {
		for _, m := range msgs {
			s.cfg.dropIn(p, m, 0, DropUnexpected)
		}
		return nil
	}
	return s.fq.PushBatch(p, msgs)
}

// Room implements BatchInbound.
func (s *sub) Room(ctx context.Context, p Pipe) (int, error) { return s.fq.Room(ctx, p) }

// InboundBatch implements BatchInbound: messages no subscription matches
// are dropped, as in Inbound, under one lock for the batch. msgs is
// reordered in place (the matching ones first).
func (s *sub) InboundBatch(p Pipe, msgs []Msg) error { return s.InboundTagged(p, msgs, nil) }

// InboundTagged implements TaggedBatchInbound: messages no subscription
// matches are dropped (with their tags), as in Inbound, under one lock for
// the batch. Nil tags: the messages are untagged.
func (s *sub) InboundTagged(p Pipe, msgs []Msg, tags []Tag) error {
	n := 0
	s.mu.Lock()
	for i, m := range msgs {
		var first []byte
		if len(m.Frames) > 0 {
			first = m.Frames[0]
		}
		if s.subs.Match(first) {
			if i != n {
				msgs[n], msgs[i] = msgs[i], msgs[n]
				if tags != nil {
					tags[n], tags[i] = tags[i], tags[n]
				}
			}
			n++
		}
	}
	s.mu.Unlock()
	if n > 0 {
		var kept []Tag
		if tags != nil {
			kept = tags[:n]
		}
		if err := s.fq.PushTagged(p, msgs[:n], kept); err != nil {
			return err
		}
	}
	for i := n; i < len(msgs); i++ {
		var tag Tag
		if tags != nil {
			tag = tags[i]
		}
		s.cfg.dropIn(p, msgs[i], tag, DropUnexpected)
	}
	return nil
}

// Source is a pipe's connection that the pattern's consumer may read
// itself (inproc): a Recv that finds nothing queued takes what has
// arrived there, and one that waits is woken by the peer's next write
// rather than by the pipe's reader goroutine, so a message costs one
// goroutine wake-up instead of two. The pattern serialises its calls of
// TakeReady and Settle on each source.
type Source interface {
	// TakeReady appends to dst up to max messages that have arrived,
	// without waiting, and returns how many of them to Settle once they
	// are queued. It fails once the connection is closed and drained.
	TakeReady(dst []Msg, max int) ([]Msg, int, error)
	// Ready reports, without locking, whether a message may wait; a
	// consumer passes over a source that reports false. A write under
	// way may not show yet, and is told to an armed consumer.
	Ready() bool
	// Settle reports n messages from TakeReady as taken (the sender's
	// credit); it is called with no pattern lock held.
	Settle(n int)
	// SetNotify sets the function a write calls while a consumer is
	// armed; it does not block.
	SetNotify(fn func())
	// Arm records a consumer about to wait, and reports whether a message
	// already waits; Disarm ends it. Every Arm needs its Disarm.
	Arm() bool
	Disarm()
}

// SourceInbound is implemented by patterns whose consumer can read a
// pipe's Source itself. The pipe's reader goroutine attaches the source,
// then, each time a message has arrived and p has room, calls Pull to
// move what the consumer has not taken; it detaches the source before it
// reads the connection any other way.
type SourceInbound interface {
	BatchInbound
	// AttachSource lets the consumer read src, p's connection. It reports
	// false (and attaches nothing) when p's messages must go through
	// InboundBatch, as for a peer PAIR does not talk to.
	AttachSource(p Pipe, src Source) bool
	// DetachSource ends AttachSource; once it returns, src is not read
	// by the pattern any more.
	DetachSource(p Pipe)
	// Pull moves what p's source holds into the queue, as much as p has
	// room for, and returns how many messages it moved. It fails with
	// transport.ErrClosed once the pattern is closed (having taken none),
	// or with the source's error.
	Pull(p Pipe) (int, error)
}

var (
	_ SourceInbound = (*pull)(nil)
	_ SourceInbound = (*dealer)(nil)
	_ SourceInbound = (*pair)(nil)
)

// AttachSource implements SourceInbound.
func (s *pull) AttachSource(p Pipe, src Source) bool { return s.fq.AttachSource(p, src) }

// DetachSource implements SourceInbound.
func (s *pull) DetachSource(p Pipe) { s.fq.DetachSource(p) }

// Pull implements SourceInbound.
func (s *pull) Pull(p Pipe) (int, error) { return s.fq.Pull(p) }

// AttachSource implements SourceInbound.
func (s *dealer) AttachSource(p Pipe, src Source) bool { return s.fq.AttachSource(p, src) }

// DetachSource implements SourceInbound.
func (s *dealer) DetachSource(p Pipe) { s.fq.DetachSource(p) }

// Pull implements SourceInbound.
func (s *dealer) Pull(p Pipe) (int, error) { return s.fq.Pull(p) }

// AttachSource implements SourceInbound: only the peer PAIR talks to is
// read directly; another one's messages are dropped by InboundBatch.
func (s *pair) AttachSource(p Pipe, src Source) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.peer == nil || s.peer.ID() != p.ID() {
		return false
	}
	return s.fq.AttachSource(p, src)
}

// DetachSource implements SourceInbound.
func (s *pair) DetachSource(p Pipe) { s.fq.DetachSource(p) }

// Pull implements SourceInbound.
func (s *pair) Pull(p Pipe) (int, error) { return s.fq.Pull(p) }

// RoomWaiter is implemented by patterns whose Inbound waits for room at
// the receive high-water mark. A reader that reads its connection one
// message at a time asks Room before it reads the next one, so it never
// holds a message read and waiting for room: the pipe holds at most the
// high-water mark. Room is BatchInbound's.
type RoomWaiter interface {
	// Room waits until p may queue at least one more message, until ctx
	// ends or the pattern closes (transport.ErrClosed), and returns how
	// many it may queue now.
	Room(ctx context.Context, p Pipe) (int, error)
}

var (
	_ RoomWaiter = (*router)(nil)
	_ RoomWaiter = (*rep)(nil)
	_ RoomWaiter = (*xpub)(nil)
)

// Room implements RoomWaiter.
func (s *router) Room(ctx context.Context, p Pipe) (int, error) { return s.fq.Room(ctx, p) }

// Room implements RoomWaiter.
func (s *rep) Room(ctx context.Context, p Pipe) (int, error) { return s.fq.Room(ctx, p) }

// Room implements RoomWaiter.
func (s *xpub) Room(ctx context.Context, p Pipe) (int, error) { return s.fq.Room(ctx, p) }
