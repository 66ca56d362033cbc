package durable

import (
	"encoding/binary"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
)

// indexEntry maps a record offset to its byte position in the segment and its
// timestamp. Entries are sparse: one per IndexInterval bytes of log, plus the
// first record of the segment.
type indexEntry struct {
	off uint64
	pos int64
	ts  int64
}

// index is a segment's sparse offset and time index. It is only a cache: a
// lookup gives a position from which a forward scan finds the record, and
// every record read is verified.
type index struct {
	mu      sync.RWMutex
	entries []indexEntry
	// last is the position of the last entry plus one (0: no entry), so
	// that add skips the lock for the records between entries.
	last atomic.Int64
}

// add appends e if it is at least interval bytes after the last entry.
func (x *index) add(e indexEntry, interval int64) {
	if l := x.last.Load(); l > 0 && e.pos-(l-1) < interval {
		return
	}
	x.mu.Lock()
	if n := len(x.entries); n == 0 || e.pos-x.entries[n-1].pos >= interval {
		x.entries = append(x.entries, e)
		x.last.Store(e.pos + 1)
	}
	x.mu.Unlock()
}

// floor returns the last entry with offset <= off.
func (x *index) floor(off uint64) (indexEntry, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	i := sort.Search(len(x.entries), func(i int) bool { return x.entries[i].off > off })
	if i == 0 {
		return indexEntry{}, false
	}
	return x.entries[i-1], true
}

// floorTime returns the last entry with timestamp < ts, from which a scan
// finds the first record at or after ts.
func (x *index) floorTime(ts int64) (indexEntry, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	i := sort.Search(len(x.entries), func(i int) bool { return x.entries[i].ts >= ts })
	if i == 0 {
		return indexEntry{}, false
	}
	return x.entries[i-1], true
}

func (x *index) snapshot() []indexEntry {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return append([]indexEntry(nil), x.entries...)
}

func (x *index) replace(es []indexEntry) {
	x.mu.Lock()
	x.entries = es
	if n := len(es); n > 0 {
		x.last.Store(es[n-1].pos + 1)
	} else {
		x.last.Store(0)
	}
	x.mu.Unlock()
}

// idxFile is the content of a sealed segment's index file.
type idxFile struct {
	base    uint64
	end     uint64 // offset after the segment's last record
	size    int64  // segment file size
	lastTS  int64  // timestamp of the last record (0 if empty)
	entries []indexEntry
}

func encodeIdx(f idxFile) []byte {
	b := make([]byte, idxHdrSize+idxEntSize*len(f.entries))
	putHeader(b, idxMagic)
	binary.LittleEndian.PutUint64(b[16:24], f.base)
	binary.LittleEndian.PutUint64(b[24:32], f.end)
	binary.LittleEndian.PutUint64(b[32:40], uint64(f.size))
	binary.LittleEndian.PutUint64(b[40:48], uint64(f.lastTS))
	binary.LittleEndian.PutUint32(b[48:52], uint32(len(f.entries)))
	p := b[idxHdrSize:]
	for _, e := range f.entries {
		binary.LittleEndian.PutUint64(p[0:8], e.off)
		binary.LittleEndian.PutUint64(p[8:16], uint64(e.pos))
		binary.LittleEndian.PutUint64(p[16:24], uint64(e.ts))
		p = p[idxEntSize:]
	}
	sealCRC(b)
	return b
}

// decodeIdx parses and checks an index file against the segment it describes.
func decodeIdx(b []byte, base uint64, size int64) (idxFile, error) {
	if len(b) < idxHdrSize {
		return idxFile{}, fmt.Errorf("short")
	}
	if err := checkCRC(b, idxMagic); err != nil {
		return idxFile{}, err
	}
	f := idxFile{
		base:   binary.LittleEndian.Uint64(b[16:24]),
		end:    binary.LittleEndian.Uint64(b[24:32]),
		size:   int64(binary.LittleEndian.Uint64(b[32:40])),
		lastTS: int64(binary.LittleEndian.Uint64(b[40:48])),
	}
	n := binary.LittleEndian.Uint32(b[48:52])
	if uint64(len(b)-idxHdrSize) != uint64(n)*idxEntSize {
		return idxFile{}, fmt.Errorf("entry count %d does not match size", n)
	}
	if f.base != base || f.size != size || f.end < base {
		return idxFile{}, fmt.Errorf("describes another segment")
	}
	f.entries = make([]indexEntry, n)
	p := b[idxHdrSize:]
	prev := indexEntry{off: base, pos: segHdrSize}
	for i := range f.entries {
		e := indexEntry{
			off: binary.LittleEndian.Uint64(p[0:8]),
			pos: int64(binary.LittleEndian.Uint64(p[8:16])),
			ts:  int64(binary.LittleEndian.Uint64(p[16:24])),
		}
		if e.off < prev.off || e.pos < prev.pos || e.off >= f.end || e.pos >= size || (i > 0 && e.off == prev.off) {
			return idxFile{}, fmt.Errorf("entry %d out of order", i)
		}
		f.entries[i] = e
		prev = e
		p = p[idxEntSize:]
	}
	return f, nil
}
