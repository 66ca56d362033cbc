// Package socket is the facade brook's users hold: a ZeroMQ-style socket
// of one Type that binds and connects any number of endpoints and sends
// and receives whole multipart messages.
//
//	push, _ := socket.New(socket.Push)
//	defer push.Close()
//	push.Connect("tcp://127.0.0.1:5555")
//	push.Send(ctx, socket.NewMsg([]byte("hello")))
//
// A Socket is safe for concurrent use by several goroutines. Every
// blocking call honours its context; Close unblocks them with an error
// matching ErrClosed (and net.ErrClosed).
//
// Inside, each peer has a pipe: a bounded send queue (the send
// high-water mark) drained by a writer goroutine that writes many
// messages per syscall, and a reader goroutine that feeds the socket's
// fair inbound queue (the receive high-water mark). The socket type's
// pattern (package patterns) decides which pipe gets each message. A REQ
// or REP with one peer over tcp or ipc skips both goroutines on its round
// trips: Send writes the message itself while the writer is parked, and
// a Recv that would wait reads the connection itself, so each message
// costs one wake-up, as in a bare loop over a net.Conn.
//
// A received message is the application's. An application that receives
// large messages (tens of KiB) over tcp or ipc and is done with each one
// before the next can give it back with Msg.Release, so that later bodies
// are read into the same memory instead of fresh allocations (see its
// documentation for what must not be released: above all, anything sent,
// and messages that came over inproc).
//
// # Journaled sockets
//
// ZeroMQ keeps nothing: a crash loses what was queued, a receiver that
// restarts loses what was in flight, a subscriber that is down misses
// everything. Given a local journal (package durable), brook sockets keep
// ZeroMQ's brokerless shape and add the two models of message middleware,
// with no server anywhere:
//
//   - The queue model (PUSH, DEALER with WithJournal): each message goes to
//     one receiver, which acknowledges it; what is not acknowledged is
//     delivered again, to whichever receiver is ready.
//   - The stream model (PUB, XPUB with WithJournal): every subscriber sees
//     every message in order, and each owns its position in the stream:
//     it can resume after a crash, start from the oldest message, an offset
//     or a time, and fall behind without losing anything.
//
// # Sending from a journal
//
// Send journals the message and returns once it is durable in the journal
// per its sync mode (Group, the default, and Always: fsynced; see package
// durable). SendAsync returns as soon as the message is queued in the
// journal, with a Pending whose Wait says when it is durable: one
// goroutine can keep thousands in flight and reach the journal's group
// commit throughput. Messages become durable in offset order, so waiting
// for the last of a series waits for all. A message whose Send (or
// Pending.Wait) failed may or may not be in the journal.
//
// SendBatch and SendBatchAsync journal many messages with one append (one
// lock, one clock reading, one writer wake-up) and one durability wait: a
// sender with messages at hand pays the journal's fixed costs once per
// batch. On an error they report exactly how many messages were accepted
// (msgs[:n], journaled in order); the rest were not. Without a journal a
// batch is sent message by message, as by Send.
//
// Delivery runs from the journal, never from memory alone, and only of
// records that are durable (in Interval and None mode the socket syncs
// when it has nothing durable to deliver). So a message id, (journal id,
// epoch the record was written in, offset), never names two different
// messages, across any crash of sender or receiver (recovery can only drop
// records nobody was given).
//
// # The queue model
//
// A journaled PUSH or DEALER delivers durable records oldest first, round
// robin to its ready peers, with at most a window (the send high-water
// mark) delivered and unacknowledged per peer: a slow or stuck receiver
// holds its window, never the others (no head-of-line blocking). It takes
// a peer's unacknowledged messages back and delivers them again, with
// their delivery count raised, when the peer disconnects, negatively
// acknowledges them (Delivery.Nack, optionally after a delay), or keeps
// them past the ack timeout (WithAckTimeout, default 30 s). After
// WithMaxDeliveries deliveries a message goes to a dead-letter journal
// instead (EventDeadLetter; ReadDeadLetter, Reinject). A message sent with
// NotBefore(t) is journaled at once and delivered no earlier than t, also
// after restarts; it does not hold up the messages behind it.
//
// Acknowledgements go into the journal's cursor (WithJournalCursor),
// persisted in batches and on Close, and retention (durable's
// WithRetainConsumed) frees what every cursor is past. A restarted sender
// delivers again exactly the messages its cursor does not hold as
// acknowledged. WaitAcked waits until everything sent so far is.
// Retention by bytes or age on a queue's journal deletes messages whether
// acknowledged or not: each one lost so is counted (JournalStats.Lost) and
// reported (EventJournalGap), never skipped silently.
//
// Receivers (PULL, DEALER, ROUTER) speak the profile by default.
// RecvDelivery returns a Delivery (id, delivery count, time of Send, the
// sending peer) to be settled after processing; Recv acknowledges on
// receipt. Acknowledgements travel back batched, as offset ranges.
//
// # What the queue model guarantees
//
//  1. A message whose Send (or Pending.Wait) succeeded is in the sender's
//     journal: under Group or Always it survives SIGKILL of the sender and,
//     on a device that honours flushes, power loss.
//  2. Such a message reaches the application of some receiver that speaks
//     the profile at least once, whatever dies and restarts in between, as
//     long as the sender eventually runs again and some receiver
//     acknowledges it. Order per sender is kept, except where a redelivery
//     overtakes (Delivery.Count says it is one).
//  3. Duplicates: a receiver drops, in memory, copies of messages it holds
//     or acknowledged. A copy it holds but the application has not taken is
//     dropped when another receiver acknowledges the message or when the
//     connection it came on is lost. With WithDedupStore, what the receiver
//     acknowledged survives its restarts: a message acknowledged (Ack
//     returned) is never passed to that receiver's application again.
//     Delivery.AckSync returns once the sender holds the acknowledgement
//     durably: from then on no receiver is ever given the message again.
//     So an application that processes, then calls AckSync, never sees a
//     message after its acknowledgement returned anywhere; what it may see
//     twice is a message processed when a crash cut the acknowledgement
//     short (at least once). Without a dedup store, a receiver restarted
//     may be given again a message it acknowledged but whose
//     acknowledgement the sender did not get.
//  4. Delivery counts restart at 1 when the sender restarts.
//
// Settle every Delivery (Ack, AckSync or Nack): one the application keeps
// unsettled stays with its receiver (copies are dropped as duplicates)
// until that receiver closes or loses its connection to the sender.
//
// # The stream model
//
// A journaled PUB or XPUB journals every message, then fans it out.
// Subscribers that speak the profile (brook SUB and XSUB) ask for the
// stream when they connect (WithStart: live, the oldest message, an
// offset, a time; or, once they have one, their own position in that
// journal) and are served from the journal by a feeder each, with their
// topic filters applied: replay and live come from the same journal in
// offset order, so the switch has no gap and no duplicate. A feeder sends
// no faster than its subscriber reads: a slow subscriber falls behind and
// catches up from disk instead of losing messages at its high-water mark.
// A feeder keeps at most WithFeedWindow messages in flight to its
// subscriber (by default the larger of SNDHWM and DefaultFeedWindow); the
// send high-water mark still bounds plain subscribers' queues exactly.
// Subscribers keep a position per publisher journal (the offsets they
// received and acknowledged, Recv acknowledging on receipt), durable with
// WithPositionStore (committed every interval, by CommitPositions and on
// Close), so a restarted subscriber resumes where it left off.
//
// What the stream model guarantees (the messages are those a subscriber's
// filters match):
//
//  1. A subscriber resuming from position P receives every retained
//     message after P, in publish order, then the live stream, with no gap
//     and no duplicate at the switch. A crash may replay what it processed
//     after its last committed position (at least once; measured by the
//     kill tests).
//  2. If P is older than retention, EventJournalGap says exactly how many
//     offsets are gone and the stream starts at the oldest retained. If the
//     publisher no longer has what P says was delivered, or the endpoint
//     now serves another journal, EventJournalChanged says so.
//  3. A journaled PUB does not count a message no live subscriber took as
//     dropped: it is in the journal.
//
// # Peers that do not speak the profile
//
// The profile is negotiated in the handshake (the X-Brook-Journal READY
// property); with a libzmq or go-zeromq peer nothing of it is ever sent,
// and the connection is plain ZeroMQ with ZeroMQ's guarantees:
//
//   - A journaled PUSH or DEALER delivers to such a peer at most once: a
//     message its queue accepts counts as acknowledged
//     (JournalStats.PlainDelivered) and is not delivered again, even if
//     the peer dies with it.
//   - A journaled PUB serves such a subscriber the live stream, with
//     ZeroMQ's drops at its high-water mark (counted).
//   - The journal still protects the sending side: what Send accepted
//     survives a crash of the sender.
//
// The wire form of the profile is specified in package
// socket/internal/jwire.
package socket
