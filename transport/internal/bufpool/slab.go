package bufpool

import (
	"sync"
	"sync/atomic"
	"unsafe"
)

// Slabs. The ZMTP reader copies small bodies (at most 2 KiB) one after
// the other into a slab of SlabSize bytes; the messages it delivers
// alias it. Once the application releases messages, the reader takes its
// slabs from a pool here, and every message carved from one holds a
// reference to it: the slab goes back to the pool when the reader has
// moved on and every message holding a reference has been released.
//
// A slab is one allocation: a header (a magic word and the reference
// count), SlabSize bytes of data, and SlabFrames entries of frame lists
// for the messages whose bodies the data holds. A message's reference is
// a token, a zero-length slice of the header, that the reader stores in
// the spare capacity of the message's frame list (the entry just past
// the frames, at the list's capacity), so that counting a message costs
// no allocation and Release finds the slab from the list alone. The
// frame entries let a stream of small messages be read with no
// allocation at all once they are released: the reader carves the list
// of a message holding a token of the slab from the slab's own entries
// (and only such a message's, so the list lives as long as it may be
// used).
//
// Counting costs one atomic operation per message, in Release: the
// reader takes a slab with a large credit of references (slabCredit) and
// counts the ones it hands out in a plain integer; retiring the slab, it
// gives back the credit it did not hand out, in one atomic add. Whoever
// brings the count to zero puts the slab back. A reference handed out
// without a token (Leak), or whose token is dropped unreleased, is never
// given back, so that slab is never reused: the reader does so for a
// message whose frames the socket layer may keep after the application
// released it.

// SlabSize is the data capacity of a slab.
const SlabSize = 32 << 10

// SlabFrames is the number of frame-list entries of a slab: two per
// message (its frame and its token) for 256 single-frame messages.
const SlabFrames = 512

// slab is the memory of one slab; a token points at its start.
type slab struct {
	hdr    [2]uint64 // magic word, reference count
	data   [SlabSize]byte
	frames [SlabFrames][]byte
}

const (
	slabHeader = 16                  // magic word, reference count: slab.hdr
	slabMagic  = 0x736c_6162_6272_6b // "slabbrk": tells a token from a user's slice
	slabCredit = 1 << 40             // references a reader holds on a slab it carves
)

// slabs holds slabs no message refers to (an interface holds a pointer
// without an allocation).
var slabs sync.Pool

// slabsMade and slabsBack count the slabs allocated and those given back
// to the pool (the pool itself may drop some: these say what the counting
// did, for tests).
var slabsMade, slabsBack atomic.Int64

// Slab is the reader's handle on a slab it carves: the zero Slab is none.
// Only the reader uses it; the messages it delivers hold tokens.
type Slab struct {
	base  *byte // the slab's header
	given int64 // references handed out (tokens and leaks)
}

// GetSlab returns a slab (recycled if the pool has one) with the reader's
// credit of references, and its SlabSize bytes of data. A recycled slab's
// data is stale: the reader must write every byte it hands out.
func GetSlab() (Slab, []byte) {
	sl, _ := slabs.Get().(*slab)
	if sl == nil {
		sl = new(slab)
		sl.hdr[0] = slabMagic
		slabsMade.Add(1)
	}
	p := (*byte)(unsafe.Pointer(sl))
	refs(p).Store(slabCredit)
	return Slab{base: p}, sl.data[:]
}

// Frames returns the slab's SlabFrames frame-list entries, all nil. Only
// the lists of messages holding a token of the slab may be carved from
// them: the slab is reused once those are released.
func (s *Slab) Frames() [][]byte { return (*slab)(unsafe.Pointer(s.base)).frames[:] }

// refs returns the reference count in the header at p.
func refs(p *byte) *atomic.Int64 { return (*atomic.Int64)(unsafe.Add(unsafe.Pointer(p), 8)) }

// Valid reports whether s is a slab (not the zero Slab).
func (s *Slab) Valid() bool { return s.base != nil }

// Ref counts one more message holding the slab and returns the token to
// store at the end of its frame list's capacity; ReleaseToken drops the
// reference.
func (s *Slab) Ref() []byte {
	s.given++
	return unsafe.Slice(s.base, slabHeader)[:0]
}

// RefN is Ref for n messages at once: each stores the token returned.
func (s *Slab) RefN(n int) []byte {
	s.given += int64(n)
	return unsafe.Slice(s.base, slabHeader)[:0]
}

// Leak counts one more message holding the slab that will never give its
// reference back: the slab is then never reused, and the collector frees
// it once nothing refers to it.
func (s *Slab) Leak() { s.given++ }

// Retire ends the reader's use of s, giving back the credit it did not
// hand out, and makes s the zero Slab. The slab goes back to the pool
// now if every message that held it has been released already.
func (s *Slab) Retire() {
	if s.base == nil {
		return
	}
	if refs(s.base).Add(s.given-slabCredit) == 0 {
		putSlab(s.base)
	}
	*s = Slab{}
}

// IsToken reports whether tok is a slab token (Ref's).
func IsToken(tok []byte) bool {
	if len(tok) != 0 || cap(tok) != slabHeader {
		return false
	}
	p := unsafe.SliceData(tok)
	return uintptr(unsafe.Pointer(p))%8 == 0 && *(*uint64)(unsafe.Pointer(p)) == slabMagic
}

// ReleaseToken drops the reference tok stands for, if tok is a slab token
// (Ref's), and reports whether it was one. The slab goes back to the pool
// when this was its last reference: from then on the reader may reuse it,
// frame lists carved from it included, so a caller must be done writing
// to whatever the slab holds before it releases the token.
func ReleaseToken(tok []byte) bool {
	if !IsToken(tok) {
		return false
	}
	p := unsafe.SliceData(tok)
	if refs(p).Add(-1) == 0 {
		putSlab(p)
	}
	return true
}

// putSlab gives back a slab no message refers to. Its frame entries are
// nil but for those of lists an application shortened before releasing
// them (Release clears every entry of the lists it is given, and a slab
// whose messages are not all released never comes back): those point
// into the slab itself, or at the token of the slab before it, which
// they keep from the collector a while longer at worst.
func putSlab(p *byte) {
	slabsBack.Add(1)
	slabs.Put((*slab)(unsafe.Pointer(p)))
}

// MarkActive turns the reader's recycling on, as the first Release of a
// message does whatever it holds.
func MarkActive() {
	if !active.Load() {
		active.Store(true)
	}
}

// SlabStats returns how many slabs were allocated and how many went back
// to the pool so far, for tests and benchmarks (the pool itself may drop
// some of what it is given).
func SlabStats() (made, back int64) { return slabsMade.Load(), slabsBack.Load() }
