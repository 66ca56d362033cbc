package transport

import "github.com/brookmq/brook/transport/internal/bufpool"

// Release gives m's memory back to brook, to be reused for messages
// received later, and clears m's frame list. It is optional: a message
// that is never released is reclaimed by the garbage collector as usual.
// It pays off for messages of a few hundred bytes and more, whose
// allocation, zeroing and collection otherwise weigh on receiving them.
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
// What Release gives back: a frame whose capacity is one of the sizes
// brook recycles (above 2 KiB), and the message's share of the slab its
// small frames were read into. A stream transport (tcp, ipc, quic) reads
// small frames into 32 KiB slabs shared by the messages around them; a
// message whose frames lie in a recycled slab holds a reference to it
// just past its frames, in the spare capacity of m.Frames (a list made
// anew from the frames holds none, and its slab is simply not reused).
// A slab is reused only once every message read into it has been
// released: a message that is never released keeps its bytes, whatever
// the traffic after it. Other frames are left to the garbage collector.
//
// Recycling starts with the first call of Release (of any message, for
// the whole process): until then the transports allocate every body
// afresh, as if Release did not exist, so a program that never calls it
// pays nothing and never sees its data overwritten. From then on, large
// bodies are read into recycled buffers, whose capacity may exceed their
// length by up to an eighth (the bytes past the length are zeroed), and
// small ones into recycled slabs, their frame lists too, so that a
// stream of small messages released as they are taken allocates nothing
// (zstd+tcp's go on being allocated). Every body is written whole before its message is
// delivered, and a slab-carved frame's capacity is its length: a
// recycled buffer never shows a correct program data of an earlier
// message.
func (m Msg) Release() {
	for i, f := range m.Frames {
		bufpool.Release(f)
		m.Frames[i] = nil
	}
	// The slab tokens, past the frames: one at the capacity, one below
	// it for a message that spans two slabs. The list itself may lie in
	// one of those slabs (frame lists are carved from them too), so every
	// entry is cleared before any token is released: once a slab's last
	// token goes, the reader may carve new messages from it at once.
	all := m.Frames[:cap(m.Frames)]
	var toks [2][]byte
	n := 0
	for i := len(all) - 1; i >= len(m.Frames) && i >= len(all)-2; i-- {
		if !bufpool.IsToken(all[i]) {
			break
		}
		toks[n] = all[i]
		n++
		all[i] = nil
	}
	for _, tok := range toks[:n] {
		bufpool.ReleaseToken(tok)
	}
	bufpool.MarkActive()
}
