package zstd

import (
	"bytes"
	"sync"
	"unsafe"
)

// cacheSlots is how many recently encoded parts a Transport remembers. A
// PUB hands the same frames to every subscriber's pipe, and the pipes'
// writers encode them at about the same time, so a handful is enough.
const cacheSlots = 8

// cacheMaxPart is the largest part the cache keeps: bigger parts cost more
// memory to remember than they are likely to save.
const cacheMaxPart = 256 << 10

// encodeCache remembers the wire form of the last few parts encoded. A hit
// needs the same backing array and length (a cheap filter) and the same
// bytes (the proof, since an application may reuse a buffer), so a hit can
// never send stale data. Slots keep their buffers, so a warm cache
// allocates nothing. It is safe for concurrent use.
type encodeCache struct {
	mu    sync.Mutex
	next  int
	slots [cacheSlots]cacheSlot
}

type cacheSlot struct {
	ptr   unsafe.Pointer // &part[0] of the cached part, nil when empty
	plain []byte         // a copy of the part's bytes
	wire  []byte         // its wire form, sentinel included
}

// appendCached appends the cached wire form of part to dst, if part is in
// the cache.
func (c *encodeCache) appendCached(dst, part []byte) ([]byte, bool) {
	if len(part) == 0 || len(part) > cacheMaxPart {
		return dst, false
	}
	p := unsafe.Pointer(unsafe.SliceData(part))
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.slots {
		s := &c.slots[i]
		if s.ptr == p && len(s.plain) == len(part) && bytes.Equal(s.plain, part) {
			return append(dst, s.wire...), true
		}
	}
	return dst, false
}

// store records wire as the wire form of part, replacing the oldest slot.
func (c *encodeCache) store(part, wire []byte) {
	if len(part) == 0 || len(part) > cacheMaxPart {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s := &c.slots[c.next]
	c.next = (c.next + 1) % cacheSlots
	s.ptr = unsafe.Pointer(unsafe.SliceData(part))
	s.plain = append(s.plain[:0], part...)
	s.wire = append(s.wire[:0], wire...)
}
