package zmtp

import (
	"strings"
	"unsafe"
)

// uninitialized returns n bytes of new memory, in one allocation, without
// clearing it first: for a body that the reader reads over whole before
// anyone sees it. The caller must overwrite every byte before the slice
// leaves the reader, or stale heap bytes would leak to the application.
// (make cleared each 64 KiB body that the read then wrote again: 6% of a
// receiver of 64 KiB messages.) strings.Builder.Grow is the one standard
// way to get memory that is not cleared; the byte written makes the
// string point at that memory, and the string is dropped at once, so the
// slice is the only reference to it.
func uninitialized(n int) []byte {
	if n == 0 {
		return []byte{}
	}
	var sb strings.Builder
	sb.Grow(n)
	_ = sb.WriteByte(0)
	return unsafe.Slice(unsafe.StringData(sb.String()), n)[:n:n]
}
