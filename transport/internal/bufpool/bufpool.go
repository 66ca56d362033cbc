// Package bufpool recycles large message bodies: size-classed sync.Pools
// of byte buffers that an application gives back with transport.Msg's
// Release, and that the ZMTP reader and the CURVE engine take their large
// bodies and ciphertext buffers from.
//
// A buffer's class is its capacity: sizes above MinSize, up to MaxSize,
// in eight steps per power of two (each class is at most 12.5% above the
// class below it; Go's own allocator rounds large objects to whole
// pages, so a body allocated at its class costs little more memory than
// one allocated at its size). Only a buffer whose capacity is exactly a
// class is pooled; smaller ones (the reader's shared slabs hand out
// bodies of at most 2 KiB) never are.
//
// The reader asks for pooled bodies only once a buffer has been released
// (Active): an application that never releases gets bodies allocated at
// their exact size, as before.
package bufpool

import (
	"math/bits"
	"sync"
	"sync/atomic"
	"unsafe"
)

const (
	minShift = 11 // classes start above 1<<minShift bytes
	maxShift = 24 // and end at 1<<maxShift bytes
	steps    = 8  // classes per power of two
	stepBits = 3  // log2(steps)

	// MinSize is the largest size below the classes: buffers of at most
	// this capacity are never pooled.
	MinSize = 1 << minShift
	// MaxSize is the largest class.
	MaxSize = 1 << maxShift
)

// pools holds one sync.Pool per class. A pool holds a buffer as a
// pointer to its first byte (its length is the class's): an interface
// holds a pointer without an allocation, where a slice would cost one
// per Put.
var pools [(maxShift - minShift) * steps]sync.Pool

// active is set by the first buffer an application releases.
var active atomic.Bool

// class returns the class index and size for a buffer of n bytes, or
// ok false when n is outside the classes.
func class(n int) (idx, size int, ok bool) {
	if n <= MinSize || n > MaxSize {
		return 0, 0, false
	}
	k := bits.Len(uint(n - 1)) // 1<<(k-1) < n <= 1<<k
	step := 1 << (k - 1 - stepBits)
	size = (n + step - 1) &^ (step - 1)
	return (k-minShift-1)*steps + size/step - steps - 1, size, true
}

// ClassSize returns the capacity of the buffer Get returns for n bytes,
// or n itself when n is outside the classes.
func ClassSize(n int) int {
	if _, size, ok := class(n); ok {
		return size
	}
	return n
}

// Active reports whether an application has released a buffer: from
// then on the reader takes large bodies from the pools.
func Active() bool { return active.Load() }

// Get returns a buffer of length n and capacity ClassSize(n), recycled
// if its pool has one, newly allocated otherwise; ok is false, and b
// nil, when n is outside the classes. A recycled buffer's first n bytes
// hold stale data the caller must overwrite whole before handing b on;
// the bytes past n are zeroed, so that nothing stale is reachable by
// extending b.
func Get(n int) (b []byte, ok bool) {
	idx, size, ok := class(n)
	if !ok {
		return nil, false
	}
	if p, _ := pools[idx].Get().(*byte); p != nil {
		b = unsafe.Slice(p, size)
		clear(b[n:])
		return b[:n], true
	}
	return make([]byte, n, size), true
}

// Put gives b's memory (its whole capacity, from b's first byte) to its
// class's pool, if its capacity is exactly a class, and reports whether
// it did. The caller must not use b, or anything sharing its memory,
// afterwards. Put does not make the pools Active.
func Put(b []byte) bool {
	idx, size, ok := class(cap(b))
	if !ok || size != cap(b) {
		return false
	}
	pools[idx].Put(unsafe.SliceData(b))
	return true
}

// Release is Put for a buffer an application gives back: the first one
// that is pooled makes the pools Active.
func Release(b []byte) bool {
	if !Put(b) {
		return false
	}
	if !active.Load() {
		active.Store(true)
	}
	return true
}

// SetActive turns the reader's use of the pools on or off, whatever was
// released: for tests, which must not depend on the order they run in.
func SetActive(on bool) { active.Store(on) }
