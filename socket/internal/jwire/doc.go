// Package jwire encodes and decodes brook's journal profile: what journaled
// sockets say to each other beside the application's messages, as ZMTP
// READY properties and commands (RFC 23 command frames), so the frames the
// application sends are exactly the frames the application receives. It
// is pure encoding: the sockets (package socket) decide what to say.
//
// # Negotiation
//
// A socket that speaks the profile announces the READY property
// X-Brook-Journal. Nothing of the profile is ever sent on a connection
// unless both sides announced it; a libzmq or go-zeromq peer never sees a
// command of it.
//
//	X-Brook-Journal value (binary):
//	  version     1 byte   1
//	  flags       1 byte   bit 0: the sender has a journal (the fields below follow)
//	                       bit 1: the sender is a publisher (stream model)
//	                       bit 2: the sender subscribes and reads JRUN
//	                       other bits reserved, zero
//	  journal id  16 bytes
//	  epoch       8 bytes  big-endian: the journal's current epoch
//
// A receiver without a journal of its own sends only version and flags.
// Longer values are accepted (fields may be added); shorter ones, an
// unknown version or reserved flag bits set end the handshake's profile
// (the connection stays plain ZeroMQ), never the connection.
//
// # Commands
//
// All integers in commands are unsigned varints (encoding/binary's
// Uvarint) unless said otherwise. A command whose data does not decode
// exactly (trailing bytes, overflow, ranges out of order or overlapping,
// more ranges than MaxRanges) is a protocol error that ends the
// connection.
//
//	JDATA   sender -> receiver, right before the message it describes:
//	        offset, epoch the record was written in, floor delta (offset -
//	        floor: every offset below floor is acknowledged by someone, so
//	        the receiver may forget them), delivery count (1 on the first
//	        delivery), timestamp (unix ns, 8 bytes big-endian, when the
//	        sender journaled it)
//	JACK    receiver -> sender: these offsets were processed
//	        sequence (0: no confirmation wanted), then ranges: count, then
//	        for each half-open range [lo, hi) the gap from the previous
//	        range's end (for the first range: lo itself) and its length
//	        hi-lo (at least 1)
//	JDONE   sender -> receiver: the JACK of this sequence (not 0) is
//	        durable in the sender's cursor: those offsets will never be
//	        delivered again, to any receiver
//	JREVOKE sender -> receiver: these offsets, delivered to this receiver,
//	        were acknowledged by another one (after a redelivery): if the
//	        application has not taken them yet, drop them; ranges as in
//	        JNACK. The receiver answers with a JACK (sequence 0) of the
//	        same ranges once its copies are dropped (or were taken before),
//	        and the sender holds the other receiver's JDONE for them until
//	        that answer (or until this receiver's connection ends), so no
//	        application is given a message after an AckSync of it returned
//	JNACK   receiver -> sender: redeliver these offsets
//	        delay in milliseconds (0: at once), then ranges as in JACK
//	        (without the sequence)
//	JSTREAM publisher -> subscriber, right before the message it describes:
//	        offset, epoch the record was written in, skip (the offsets
//	        [offset-skip, offset) hold nothing for this subscriber: its
//	        filters did not match them), timestamp (unix ns, 8 bytes
//	        big-endian)
//	JRUN    publisher -> subscriber, right before the messages it
//	        describes, to a subscriber that announced bit 2 (others get a
//	        JSTREAM per message): the JSTREAMs of the next count messages
//	        (1 to 1024, all of one epoch) in one command. Epoch, count,
//	        then the first message's offset, skip and timestamp (8 bytes
//	        big-endian) as in JSTREAM, then for each further message its
//	        skip (offsets after the previous message's that hold nothing
//	        for this subscriber; its offset is the previous one + 1 +
//	        skip) and its timestamp minus the previous one's (a signed
//	        varint, encoding/binary's Varint). A JSTREAM or JRUN before
//	        all count messages have come is a protocol error.
//	JSKIP   publisher -> subscriber: these offsets hold nothing for it (its
//	        filters matched none of them), so its position may pass them;
//	        ranges as in JNACK
//	JSUB    subscriber -> publisher: start sending the stream
//	        mode (0 live, 1 oldest, 2 offset, 3 time), value (mode 2: the
//	        next offset wanted; mode 3: unix ns; else 0)
//	JSTART  publisher -> subscriber, before the first message of the
//	        stream: first offset to come, gap (offsets asked for that
//	        retention deleted, or that the journal no longer has), flags
//	        (bit 0: the offset asked for was beyond the journal's end: the
//	        publisher lost records the subscriber had seen)
//
// Senders deliver only records that are durable (fsynced) in their
// journal, so a message id never names two different messages: recovery
// after a crash can only drop records that no receiver has seen, and the
// epoch of a message is the journal epoch it was written in.
package jwire
