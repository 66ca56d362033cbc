package zmtp

import (
	"encoding/binary"
	"time"
)

// Command names (RFC 23 and RFC 37).
const (
	cmdReady     = "READY"
	cmdError     = "ERROR"
	cmdSubscribe = "SUBSCRIBE"
	cmdCancel    = "CANCEL"
	cmdPing      = "PING"
	cmdPong      = "PONG"

	maxPingContext = 16
	maxErrorReason = 255
)

// appendCommand appends a whole command frame: header, name length, name,
// then the data parts in order.
func appendCommand(dst []byte, name string, data ...[]byte) []byte {
	size := 1 + len(name)
	for _, d := range data {
		size += len(d)
	}
	dst = appendFrameHeader(dst, flagCommand, size)
	dst = append(dst, byte(len(name)))
	dst = append(dst, name...)
	for _, d := range data {
		dst = append(dst, d...)
	}
	return dst
}

// parseCommand splits a command body into name and data.
func parseCommand(body []byte) (name string, data []byte, err error) {
	if len(body) == 0 {
		return "", nil, protocolErrorf("empty command frame")
	}
	n := int(body[0])
	if n == 0 || len(body) < 1+n {
		return "", nil, protocolErrorf("malformed command name (length %d, frame %d bytes)", n, len(body))
	}
	return string(body[1 : 1+n]), body[1+n:], nil
}

// errorData builds the data of an ERROR command: reason length + reason.
func errorData(reason string) []byte {
	if len(reason) > maxErrorReason {
		reason = reason[:maxErrorReason]
	}
	return append([]byte{byte(len(reason))}, reason...)
}

// parseErrorReason decodes ERROR data leniently: a reason longer than the
// data is cut to what is there.
func parseErrorReason(data []byte) string {
	if len(data) == 0 {
		return ""
	}
	n := int(data[0])
	if n > len(data)-1 {
		n = len(data) - 1
	}
	return string(data[1 : 1+n])
}

// pingTTL encodes a heartbeat TTL in tenths of a second, as PING carries it.
func pingTTL(d time.Duration) [2]byte {
	ds := d / (100 * time.Millisecond)
	if d > 0 && ds == 0 {
		ds = 1
	}
	if ds > 0xFFFF {
		ds = 0xFFFF
	}
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], uint16(ds))
	return b
}

// parsePing decodes PING data: TTL (2 bytes, tenths of a second) and a
// context of up to 16 bytes (longer contexts are cut to 16 for the echo).
func parsePing(data []byte) (ttl time.Duration, context []byte, err error) {
	if len(data) < 2 {
		return 0, nil, protocolErrorf("PING command too short (%d bytes)", len(data))
	}
	ttl = time.Duration(binary.BigEndian.Uint16(data)) * 100 * time.Millisecond
	context = data[2:]
	if len(context) > maxPingContext {
		context = context[:maxPingContext]
	}
	return ttl, context, nil
}
