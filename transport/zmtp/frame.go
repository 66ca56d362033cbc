package zmtp

import "encoding/binary"

// Frame flag bits (RFC 23 section "Framing").
const (
	flagMore     = 0x01
	flagLong     = 0x02
	flagCommand  = 0x04
	flagReserved = 0xF8

	maxShortSize = 255
	maxHeader    = 9 // flags + 8-byte size
)

// appendFrameHeader appends the flags and size of a frame. The short form
// is used up to 255 bytes, as libzmq does.
func appendFrameHeader(dst []byte, flags byte, size int) []byte {
	if size <= maxShortSize {
		return append(dst, flags, byte(size))
	}
	return binary.BigEndian.AppendUint64(append(dst, flags|flagLong), uint64(size))
}

// checkFlags rejects reserved bits and a command with MORE set.
func checkFlags(flags byte) error {
	if flags&flagReserved != 0 {
		return protocolErrorf("reserved frame flag bits set (flags 0x%02x)", flags)
	}
	if flags&flagCommand != 0 && flags&flagMore != 0 {
		return protocolErrorf("command frame with MORE set (flags 0x%02x)", flags)
	}
	return nil
}
