package transport

import "github.com/brookmq/brook/transport/internal/bufpool"

// Release gives m's large frames back to brook, to be reused for
// messages received later, and clears m's frame list. It is optional: a
// message that is never released is reclaimed by the garbage collector
// as usual. It pays off for large messages (tens of KiB and more), whose
// allocation, zeroing and collection otherwise dominate the cost of
// receiving them.
//
// Call it once the application is done with a message it owns alone, as
// libzmq's zmq_msg_close: after Release neither its frames nor anything
// sharing their memory (sub-slices, other messages built from them) may
// be read or written, as the bytes will be overwritten by a later
// message. A message read from a stream transport (tcp, ipc and those
// built on them) is the receiver's alone until it is sent on. Do not
// release
//
//   - a message, or frames of one, that was sent: Send hands the frames
//     over to the socket, which may still be writing them;
//   - a message that came over inproc, unless its sender gave its frames
//     up for good: inproc passes the sender's own frames along, a PUB or
//     XPUB gives the same frames to all its subscribers, and a journaled
//     socket keeps the frames it sent to deliver them again;
//   - frames whose memory the application keeps using otherwise (a
//     buffer reused for every Send, say).
//
// Releasing the same frame twice (through two messages whose lists hold
// it, say) is a bug: it could be handed to two later messages at once.
// Releasing the same message twice is harmless, as the first Release
// sets every entry of m.Frames to nil (the list m shares with its
// copies); a frame read after Release through m is thus empty.
//
// Release keeps a frame only if its capacity is one of the sizes brook
// recycles (above 2 KiB), and leaves the others, the small frames the
// reader carves from shared blocks among them, to the garbage collector.
// The first frame it keeps turns recycling on: from then on, stream
// transports (tcp, ipc) read large bodies into recycled buffers, whose
// capacity may exceed their length by up to an eighth (the bytes past
// the length are zeroed). Every body is written whole before its message
// is delivered: a recycled buffer never shows a correct program data of
// an earlier message.
func (m Msg) Release() {
	for i, f := range m.Frames {
		bufpool.Release(f)
		m.Frames[i] = nil
	}
}
