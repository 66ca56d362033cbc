package socket

import "sync"

// tailCache holds the messages a journaled socket appended most recently,
// by offset, so that delivering them right after they become durable
// needs no disk read and no decoding: every subscriber of a journaled PUB
// gets the very frames the application sent. It is a ring: a newer
// message takes an older one's slot. Messages larger than cacheMaxMsg are
// not kept, nor any once cacheMaxBytes are held; misses read the journal.
type tailCache struct {
	mu    sync.Mutex
	slots []cacheSlot
	bytes int
}

type cacheSlot struct {
	off    uint64
	ts     int64
	frames [][]byte // the record's frames: header first
	size   int
	used   bool
}

const (
	cacheSlots    = 1 << 15
	cacheMaxMsg   = 64 << 10
	cacheMaxBytes = 64 << 20
)

func newTailCache() *tailCache { return &tailCache{slots: make([]cacheSlot, cacheSlots)} }

// put keeps the record frames of off, sent at ts.
func (c *tailCache) put(off uint64, ts int64, frames [][]byte) {
	size := 0
	for _, f := range frames {
		size += len(f)
	}
	if size > cacheMaxMsg {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s := &c.slots[off%cacheSlots]
	if s.used {
		c.bytes -= s.size
		*s = cacheSlot{}
	}
	if c.bytes+size > cacheMaxBytes {
		return
	}
	*s = cacheSlot{off: off, ts: ts, frames: frames, size: size, used: true}
	c.bytes += size
}

// get returns the record frames of off, if kept. The frames are shared:
// callers must not change them, nor the slice.
func (c *tailCache) get(off uint64) ([][]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := &c.slots[off%cacheSlots]
	if !s.used || s.off != off {
		return nil, false
	}
	return s.frames, true
}
