package zstd

import "encoding/binary"

// sentinel is the first four bytes of a wire part, read little-endian.
type sentinel uint32

const (
	// sentinelPlain announces an uncompressed part: 00 00 00 00.
	sentinelPlain sentinel = 0
	// sentinelFrame is the Zstandard frame magic 28 B5 2F FD.
	sentinelFrame sentinel = 0xFD2FB528
	// sentinelDict is the Zstandard dictionary magic 37 A4 30 EC.
	sentinelDict sentinel = 0xEC30A437
	// sentinelLen is the size of a sentinel on the wire.
	sentinelLen = 4
)

// sentinelOf returns the sentinel of a part of at least 4 bytes.
func sentinelOf(part []byte) sentinel {
	return sentinel(binary.LittleEndian.Uint32(part))
}
