package socket

import "sync"

// tailCache holds the messages a journaled socket appended most recently,
// by offset, so that delivering them right after they become durable
// needs no disk read and no decoding: every subscriber of a journaled PUB
// gets the very frames the application sent. Messages larger than
// cacheMaxMsg are not kept, nor any once cacheMaxBytes are held; misses
// read the journal.
//
// It is a ring of pages of pageSlots slots, each page holding the
// offsets of one block (offset / pageSlots), a block's page at block mod
// the number of pages: a newer block takes an older one's page, and a
// record of a block older than the page's is not kept (the newest
// records are the ones readers come for). Pages are made when first
// needed.
//
// The ring starts at cacheSlots and doubles, up to cacheMaxSlots, when a
// reader misses a message a ring twice as big would still have held
// (subscribers falling behind a burst of small messages), as long as it
// holds less than half of cacheMaxBytes. Doubling moves page pointers,
// never slots: a publisher whose subscribers lag grows its ring while
// every send waits for the cache's lock, and copying up to cacheMaxSlots
// slots into fresh memory there cost a short run (200k messages to one
// subscriber) a tenth of its CPU.
type tailCache struct {
	mu    sync.Mutex
	pages []*cachePage // len: the ring's slots / pageSlots, a power of two
	bytes int
	top   uint64 // the highest offset put, plus one
}

// cachePage is the slots of one block of offsets.
type cachePage struct {
	block uint64
	slots [pageSlots]cacheSlot
}

type cacheSlot struct {
	off    uint64
	size   int32 // framesSize(frames) (at most cacheMaxMsg), so evicting does not read the old frames
	bare   bool  // as cacheRec's
	frames [][]byte
	ts     int64
}

// cacheRec is what the cache holds of one record: the record's frames,
// header first, or (bare) the message's own frames and the time of a
// record whose header is the plain one (recHeaderPlain): a journaled PUB
// keeps what it sends that way, so that a send allocates no frame list
// for the cache. nil frames: an empty slot.
type cacheRec struct {
	frames [][]byte
	ts     int64 // bare: the record's time, unix ns
	bare   bool
}

// msg returns the message's frames: the record's past its header.
func (r cacheRec) msg() [][]byte {
	if r.bare {
		return r.frames
	}
	return r.frames[1:]
}

const (
	pageSlots     = 1 << 12 // slots a page
	cacheSlots    = 1 << 15
	cacheMaxSlots = 1 << 18
	cacheMaxMsg   = 64 << 10
	cacheMaxBytes = 64 << 20
)

func newTailCache() *tailCache { return &tailCache{pages: make([]*cachePage, cacheSlots/pageSlots)} }

// slot returns off's slot, if its page holds off's block.
func (c *tailCache) slot(off uint64) *cacheSlot {
	block := off / pageSlots
	p := c.pages[block%uint64(len(c.pages))]
	if p == nil || p.block != block {
		return nil
	}
	return &p.slots[off%pageSlots]
}

// slotFor returns the slot to put off in: its block's page, made or
// taken over from an older block (whose records it evicts) if need be;
// nil if the page holds a newer block.
func (c *tailCache) slotFor(off uint64) *cacheSlot {
	block := off / pageSlots
	i := block % uint64(len(c.pages))
	p := c.pages[i]
	switch {
	case p == nil:
		p = &cachePage{block: block}
		c.pages[i] = p
	case p.block > block:
		return nil
	case p.block < block:
		c.bytes -= p.evict()
		p.block = block
	}
	return &p.slots[off%pageSlots]
}

func framesSize(frames [][]byte) int {
	size := 0
	for _, f := range frames {
		size += len(f)
	}
	return size
}

// put keeps the record frames of off.
func (c *tailCache) put(off uint64, frames [][]byte) {
	c.mu.Lock()
	c.putLocked(off, cacheRec{frames: frames})
	c.mu.Unlock()
}

// putAhead is put for a record no reader can take before the journal
// makes it durable, floor being the journal's durable end. When off is
// more than half the ring ahead of floor, the ring is about to evict
// records before any reader could take them from it: putAhead then
// returns its size for the caller to grow it (if it has readers), and
// zero otherwise.
func (c *tailCache) putAhead(off uint64, rec cacheRec, floor uint64) int {
	c.mu.Lock()
	c.putLocked(off, rec)
	n := c.capacity()
	c.mu.Unlock()
	if off >= floor && off-floor > uint64(n/2) {
		return n
	}
	return 0
}

// putAheadAll is putAhead for the records at offs (ascending), under one
// lock, bare: msgs[i] sent at ts[i]; the floor test is made for the last.
func (c *tailCache) putAheadAll(offs []uint64, msgs []Msg, ts []int64, floor uint64) int {
	if len(offs) == 0 {
		return 0
	}
	c.mu.Lock()
	for i, off := range offs {
		c.putLocked(off, cacheRec{frames: msgs[i].Frames, ts: ts[i], bare: true})
	}
	n := c.capacity()
	c.mu.Unlock()
	if off := offs[len(offs)-1]; off >= floor && off-floor > uint64(n/2) {
		return n
	}
	return 0
}

// putAll keeps the record frames of offs[i], frames[i], under one lock.
func (c *tailCache) putAll(offs []uint64, frames [][][]byte) {
	c.mu.Lock()
	for i, off := range offs {
		c.putLocked(off, cacheRec{frames: frames[i]})
	}
	c.mu.Unlock()
}

// putLocked is put with c.mu held.
func (c *tailCache) putLocked(off uint64, rec cacheRec) {
	size := framesSize(rec.frames)
	if size > cacheMaxMsg || len(rec.frames) == 0 {
		return
	}
	c.top = max(c.top, off+1)
	s := c.slotFor(off)
	if s == nil {
		return
	}
	c.bytes -= int(s.size)
	// Field by field: a composite literal is copied in with a bulk write
	// barrier while the GC runs.
	if c.bytes+size > cacheMaxBytes {
		s.off, s.size, s.frames = 0, 0, nil
	} else {
		s.off, s.size = off, int32(size)
		s.frames, s.ts, s.bare = rec.frames, rec.ts, rec.bare
		c.bytes += size
	}
}

// get returns the record frames of off, if kept (and not bare: get is
// for the caches that only put). The frames are shared: callers must not
// change them, nor the slice.
func (c *tailCache) get(off uint64) ([][]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.slot(off)
	if s == nil || s.frames == nil || s.off != off || s.bare {
		return nil, false
	}
	return s.frames, true
}

// getRun appends to dst the records of off, off+1, ... while they are
// kept, at most max of them, under one lock. Their frames are shared, as
// get's.
func (c *tailCache) getRun(off uint64, max int, dst []cacheRec) []cacheRec {
	c.mu.Lock()
	defer c.mu.Unlock()
	for ; max > 0; max-- {
		s := c.slot(off)
		if s == nil || s.frames == nil || s.off != off {
			break
		}
		// Field by field, as in putLocked (appending a zero value
		// first zeroes through a bulk barrier too).
		if len(dst) < cap(dst) {
			dst = dst[:len(dst)+1]
		} else {
			dst = append(dst, cacheRec{})
		}
		d := &dst[len(dst)-1]
		d.frames, d.ts, d.bare = s.frames, s.ts, s.bare
		off++
	}
	return dst
}

// missed tells the cache a reader did not find off while end is the next
// offset to be written: if a ring twice as big would have held it, and
// there is room, the ring doubles.
func (c *tailCache) missed(off, end uint64) {
	c.mu.Lock()
	n := c.capacity()
	far := end <= off || end-off > uint64(2*n)
	c.mu.Unlock()
	if !far {
		c.grow(n)
	}
}

// keepUp grows the ring when a reader at off is more than half of it
// behind the newest record put: the writer goes on putting while the
// journal makes records durable and the reader sends them, and a ring
// the reader falls out of sends it to the disk for every record, which
// costs far more than the cache's memory (it stops growing at
// cacheMaxSlots or half of cacheMaxBytes).
func (c *tailCache) keepUp(off uint64) {
	c.mu.Lock()
	n := c.capacity()
	behind := c.top > off && c.top-off > uint64(n/2)
	c.mu.Unlock()
	if behind {
		c.grow(n)
	}
}

// grow doubles a ring of n slots, unless it would pass cacheMaxSlots, it
// holds half of cacheMaxBytes already, or another caller grew it
// meanwhile. Each page moves to its block's place in the doubled ring
// (no two collide there, as none did in the ring half the size).
func (c *tailCache) grow(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.capacity() != n || 2*n > cacheMaxSlots || c.bytes >= cacheMaxBytes/2 {
		return
	}
	pages := make([]*cachePage, 2*len(c.pages))
	for _, p := range c.pages {
		if p != nil {
			pages[p.block%uint64(len(pages))] = p
		}
	}
	c.pages = pages
}

// size is the number of slots.
func (c *tailCache) size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.capacity()
}

// capacity is the number of slots. (mu held)
func (c *tailCache) capacity() int { return len(c.pages) * pageSlots }

// evict empties the page (its block's records leave the cache) and
// returns the bytes they held.
func (p *cachePage) evict() int {
	n := 0
	for i := range p.slots {
		s := &p.slots[i]
		if s.frames != nil {
			n += int(s.size)
			s.off, s.size, s.frames = 0, 0, nil
		}
	}
	return n
}
