package socket

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/brookmq/brook/durable"
	"github.com/brookmq/brook/transport"
)

// Journaled sockets: see the package documentation for the guarantees and
// the model.

// Errors of journaled sockets, matched with errors.Is.
var (
	// ErrNotJournaled means the call needs a socket with a journal
	// (WithJournal), or a message received from a journaled sender.
	ErrNotJournaled = errors.New("brook: not a journaled socket")
	// ErrAcked means a Delivery was already acknowledged or negatively
	// acknowledged.
	ErrAcked = errors.New("brook: delivery already settled")
)

// MsgID identifies a journaled message: the sender's journal, the epoch of
// that journal the message was written in, and its offset. An id never
// names two different messages, across any number of crashes and
// restarts of sender and receivers.
type MsgID struct {
	Journal durable.JournalID
	Epoch   uint64
	Offset  uint64
}

// IsZero reports whether id is the zero MsgID (a message from a sender
// without a journal).
func (id MsgID) IsZero() bool { return id == MsgID{} }

// String formats id as journal/epoch/offset.
func (id MsgID) String() string { return fmt.Sprintf("%s/%d/%d", id.Journal, id.Epoch, id.Offset) }

// Delivery is a received message with what its sender's journal says
// about it. Ack or Nack it once processed (RecvDelivery); Recv acks on
// receipt. A Delivery from a peer without a journal has a zero ID, and
// acking it does nothing.
type Delivery struct {
	// Msg is the message, exactly as the sender's application sent it.
	Msg Msg
	// ID identifies the message (zero when not journaled).
	ID MsgID
	// Count is how many times the message has been delivered, this time
	// included, by a sender that has not restarted (1 on the first
	// delivery; 0 when not journaled).
	Count int
	// Time is when the sender journaled the message (zero when not
	// journaled).
	Time time.Time
	// Peer is what the sending peer announced in its handshake, and the
	// identity its security mechanism authenticated (Peer.UserID).
	Peer PeerInfo

	d *inDelivery // nil when not journaled
}

// PeerInfo is what a peer announced in its handshake.
type PeerInfo = transport.PeerInfo

// Journaled reports whether the message came from a journaled sender.
func (d *Delivery) Journaled() bool { return d.d != nil }

// Ack acknowledges the message: its sender will not deliver it again, and
// with a dedup store (WithDedupStore) this receiver will not pass it to
// the application again even if the sender does. With a dedup store Ack
// returns once the acknowledgement is durable in it (acknowledgements of
// many goroutines share one fsync); it returns ErrAcked if the delivery
// was already settled.
func (d *Delivery) Ack() error {
	if d.d == nil {
		return nil
	}
	return d.d.settle(false, 0)
}

// AckSync acknowledges the message and waits until its sender has the
// acknowledgement durably (in its journal's cursor): from then on no
// receiver will ever be given the message again, across any crash of
// sender or receiver. It waits across reconnections until ctx ends. For a
// stream (SUB, XSUB) it acknowledges and commits the positions.
func (d *Delivery) AckSync(ctx context.Context) error {
	if d.d == nil {
		return nil
	}
	return d.d.ackSync(ctx)
}

// Nack gives the message back: its sender delivers it again, to any of
// its receivers, after delay (0: at once). Each delivery counts towards
// the sender's WithMaxDeliveries.
func (d *Delivery) Nack(delay time.Duration) error {
	if d.d == nil {
		return nil
	}
	return d.d.settle(true, delay)
}

// Pending is a message SendAsync journaled but that may not be durable
// yet. It is a small value; keep it or drop it.
type Pending struct {
	id  MsgID
	log *durable.Log
}

// ID is the message's id.
func (p Pending) ID() MsgID { return p.id }

// Wait blocks until the message is durable in the journal (per its sync
// mode), the journal fails (the sticky *durable.FailedError: the message
// may be lost), or ctx ends. Messages become durable in offset order, so
// waiting for the last of many sent from one goroutine waits for all.
func (p Pending) Wait(ctx context.Context) error {
	if p.log == nil {
		return ErrNotJournaled
	}
	return p.log.WaitDurable(ctx, p.id.Offset)
}

// SendOption qualifies one SendAsync.
type SendOption func(*sendOpts)

type sendOpts struct {
	notBefore time.Time
}

// NotBefore delays a journaled message: it is journaled at once and
// delivered no earlier than t, across restarts of the sender (queue model:
// PUSH, DEALER).
func NotBefore(t time.Time) SendOption { return func(o *sendOpts) { o.notBefore = t } }

// applySendOpts returns the options opts set. Its own variable goes to
// the heap (the options are unknown functions), so a SendAsync without
// options does not call it and allocates nothing for them.
func applySendOpts(opts []SendOption) sendOpts {
	var o sendOpts
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// journalOptions are the socket options of journaled sockets.
type journalOptions struct {
	log         *durable.Log // WithJournal: the caller's
	dir         string       // WithJournalDir: the socket's own
	dirOpts     []durable.Option
	cursor      string
	ackTimeout  time.Duration
	maxDeliver  int
	deadLetters *durable.Log
	dedupDir    string
	start       Start
	positions   string
	autoCommit  time.Duration
	feedWindow  int // WithFeedWindow; 0: feedWindow's default
}

// Default settings of journaled sockets.
const (
	// DefaultAckTimeout is how long a journaled message may stay
	// unacknowledged at a receiver before it is delivered again.
	DefaultAckTimeout = 30 * time.Second
	// DefaultJournalCursor names the cursor a queue-model sender keeps its
	// acknowledgements in.
	DefaultJournalCursor = "brook.queue"
	// DefaultPositionCommit is how often a subscriber commits its stream
	// positions on its own (WithPositionStore).
	DefaultPositionCommit = time.Second
	// DefaultFeedWindow is how many messages a journaled PUB or XPUB
	// keeps in flight to one journal-profile subscriber, at least (see
	// WithFeedWindow).
	DefaultFeedWindow = 4096
)

func defaultJournalOptions() journalOptions {
	return journalOptions{
		cursor:     DefaultJournalCursor,
		ackTimeout: DefaultAckTimeout,
		autoCommit: DefaultPositionCommit,
	}
}

// WithStart says where a SUB or XSUB starts the stream of a journaled
// publisher it has no position for (none kept in memory or in its
// position store): StartLive (the default, ZeroMQ's behaviour),
// StartOldest, StartAt(offset) or StartTime(t). Once it has a position for
// a publisher's journal, it resumes after it on every reconnection.
func WithStart(s Start) Option {
	return func(o *options) error {
		if s.mode > startTime {
			return badOption("start", s, "use StartLive, StartOldest, StartAt or StartTime")
		}
		o.journal.start = s
		return nil
	}
}

// WithPositionStore keeps a SUB or XSUB's stream positions (one per
// publisher journal: every message received and acknowledged, with Recv
// or Delivery.Ack) durable in dir, so that after a restart it resumes
// where it left off. Positions are committed every interval (0:
// DefaultPositionCommit), by CommitPositions, and on Close: a crash may
// replay what was processed within the last interval (at least once).
func WithPositionStore(dir string, interval time.Duration) Option {
	return func(o *options) error {
		if dir == "" {
			return badOption("position store", dir, "must not be empty")
		}
		if interval < 0 {
			return badOption("position commit interval", interval, "must be >= 0")
		}
		if interval == 0 {
			interval = DefaultPositionCommit
		}
		o.journal.positions, o.journal.autoCommit = dir, interval
		return nil
	}
}

// WithFeedWindow sets how many journaled messages a PUB or XPUB keeps in
// flight to each subscriber that speaks the journal profile (brook SUB and
// XSUB): its feeder reads the journal ahead of the subscriber by at most n
// messages, queued on the connection. Nothing is dropped at the window:
// what is beyond it waits in the journal. The default is the larger of
// the send high-water mark and DefaultFeedWindow: a feeder refilling a
// window as small as the default SNDHWM stalls hundreds of times a
// second at high rates. Plain subscribers (libzmq, go-zeromq) are not
// affected: the send high-water mark bounds their queue exactly, as on
// any PUB. n must be positive.
func WithFeedWindow(n int) Option {
	return func(o *options) error {
		if n <= 0 {
			return badOption("feed window", n, "must be > 0")
		}
		o.journal.feedWindow = n
		return nil
	}
}

// feedWindow is a stream feeder's window: WithFeedWindow, else the larger
// of the send window and DefaultFeedWindow.
func feedWindow(o journalOptions, sendHWM int) int {
	if o.feedWindow > 0 {
		return o.feedWindow
	}
	return max(journalWindow(sendHWM), DefaultFeedWindow)
}

// WithJournal gives a PUSH, DEALER, PUB or XPUB socket a journal that the
// caller opened and closes (after the socket). Send then returns once the
// message is durable in it per its sync mode, and delivery runs from the
// journal: see the package documentation on journaled sockets.
func WithJournal(log *durable.Log) Option {
	return func(o *options) error {
		if log == nil {
			return badOption("journal", log, "must not be nil")
		}
		if o.journal.dir != "" {
			return badOption("journal", log, "WithJournalDir was given too")
		}
		o.journal.log = log
		return nil
	}
}

// WithJournalDir is WithJournal with a journal the socket opens in dir
// (creating it) with opts, and closes in Close. A PUSH or DEALER opens it
// with durable.WithRetainConsumed first, so segments every receiver has
// acknowledged are deleted (opts may add retention by bytes or age; for a
// PUB or XPUB, which keep no cursor, those are the only retention).
func WithJournalDir(dir string, opts ...durable.Option) Option {
	return func(o *options) error {
		if dir == "" {
			return badOption("journal directory", dir, "must not be empty")
		}
		if o.journal.log != nil {
			return badOption("journal directory", dir, "WithJournal was given too")
		}
		o.journal.dir, o.journal.dirOpts = dir, opts
		return nil
	}
}

// WithJournalCursor names the cursor a journaled PUSH or DEALER keeps its
// acknowledgements in (default DefaultJournalCursor). Two sockets may
// share a journal only read-only; the name matters when the journal is
// also read by other programs.
func WithJournalCursor(name string) Option {
	return func(o *options) error {
		if name == "" {
			return badOption("journal cursor", name, "must not be empty")
		}
		o.journal.cursor = name
		return nil
	}
}

// WithAckTimeout sets how long a journaled PUSH or DEALER waits for a
// receiver's acknowledgement before it delivers the message again
// (default DefaultAckTimeout). It must be positive.
func WithAckTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return badOption("ack timeout", d, "must be > 0")
		}
		o.journal.ackTimeout = d
		return nil
	}
}

// WithMaxDeliveries makes a journaled PUSH or DEALER stop delivering a
// message after n deliveries that were negatively acknowledged, timed
// out or lost with their receiver: the message is appended to dlq (a
// journal the caller owns; see ReadDeadLetter), acknowledged, counted and
// reported as EventDeadLetter. Zero, the default, delivers forever.
func WithMaxDeliveries(n int, dlq *durable.Log) Option {
	return func(o *options) error {
		if n < 0 {
			return badOption("max deliveries", n, "must be >= 0")
		}
		if n > 0 && dlq == nil {
			return badOption("dead-letter journal", dlq, "needed with max deliveries")
		}
		o.journal.maxDeliver, o.journal.deadLetters = n, dlq
		return nil
	}
}

// WithDedupStore keeps, in dir, the ids of the journaled messages this
// receiver acknowledged, so that a message acknowledged before a crash or
// restart is never passed to the application again, even when its sender
// delivers it again (its acknowledgement was lost with the connection or
// the sender). Ack then waits until the acknowledgement is durable in the
// store. One socket at a time may use dir.
func WithDedupStore(dir string) Option {
	return func(o *options) error {
		if dir == "" {
			return badOption("dedup store", dir, "must not be empty")
		}
		o.journal.dedupDir = dir
		return nil
	}
}
