package socket

import "github.com/brookmq/brook/patterns"

// deliveries holds the journaled messages handed to the pattern and not
// yet taken from it, so that a message costs its receiver neither an
// allocation nor a map operation: slots live in chunks that never move,
// a tag names a slot by its index and the generation it was filled in,
// and a freed slot is reused. Guarded by receiver.mu.
type deliveries struct {
	chunks [][]inDelivery
	free   []uint32 // indexes of unused slots
	gen    uint32   // the generation of the next fill
}

// deliveryChunk is how many slots a chunk holds.
const deliveryChunk = 256

// keepChunks is how many chunks stay allocated once every slot is free
// again: a burst's worth beyond it is given back.
const keepChunks = 4

// put stores in in a free slot and returns its tag (never 0).
func (t *deliveries) put(in inDelivery) patterns.Tag {
	// Field by field: copying the whole struct in (and zeroing it in
	// release) goes through a bulk write barrier while the GC runs, which
	// walks the type's pointer bitmap for every message a subscriber
	// receives. TestDeliveriesPutCopiesEveryField keeps this complete.
	slot, tag := t.take()
	slot.r, slot.snd, slot.p, slot.cs = in.r, in.snd, in.p, in.cs
	slot.off, slot.epoch, slot.count, slot.ts = in.off, in.epoch, in.count, in.ts
	slot.settled, slot.given, slot.revoked = in.settled, in.given, in.revoked
	return tag
}

// take returns a free slot, its tag set (never 0), its pointers nil and
// its other fields zero, for the caller to fill in place: a delivery
// built on the stack and passed to put is copied with wide loads over
// narrow stores, which stall on store forwarding once per message.
func (t *deliveries) take() (*inDelivery, patterns.Tag) {
	if len(t.free) == 0 {
		base := uint32(len(t.chunks) * deliveryChunk)
		t.chunks = append(t.chunks, make([]inDelivery, deliveryChunk))
		for i := deliveryChunk - 1; i >= 0; i-- {
			t.free = append(t.free, base+uint32(i))
		}
	}
	idx := t.free[len(t.free)-1]
	t.free = t.free[:len(t.free)-1]
	t.gen++
	tag := patterns.Tag(uint64(t.gen)<<32 | uint64(idx+1))
	slot := t.slot(idx)
	slot.tag = tag
	// release left the pointers nil; the rest is stale.
	slot.off, slot.epoch, slot.count, slot.ts = 0, 0, 0, 0
	slot.settled, slot.given, slot.revoked = false, false, false
	return slot, tag
}

func (t *deliveries) slot(idx uint32) *inDelivery {
	return &t.chunks[idx/deliveryChunk][idx%deliveryChunk]
}

// get returns the slot tag names, or nil when tag names no slot in use
// (it was released, or never was).
func (t *deliveries) get(tag patterns.Tag) *inDelivery {
	idx := uint32(tag) - 1
	if tag == 0 || int(idx/deliveryChunk) >= len(t.chunks) {
		return nil
	}
	if slot := t.slot(idx); slot.tag == tag {
		return slot
	}
	return nil
}

// release frees in's slot; in must come from get, and nothing may use it
// afterwards.
func (t *deliveries) release(in *inDelivery) {
	idx := uint32(in.tag) - 1
	// The pointers, so a free slot keeps nothing alive; put sets the rest.
	in.tag = 0
	in.r, in.snd, in.p, in.cs = nil, nil, nil, nil
	t.free = append(t.free, idx)
	if len(t.chunks) > keepChunks && len(t.free) == len(t.chunks)*deliveryChunk {
		t.chunks, t.free = nil, nil
	}
}

// used is the number of slots in use.
func (t *deliveries) used() int { return len(t.chunks)*deliveryChunk - len(t.free) }
