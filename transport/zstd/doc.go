// Package zstd implements the zstd+tcp:// transport: ZMTP 3.1 over TCP with
// every message part compressed on its own with Zstandard
// (github.com/klauspost/compress/zstd).
//
// The greeting, the handshake and every command (READY, SUBSCRIBE, PING,
// ...) are plain ZMTP; only the bodies of message parts change. Both peers
// must use the scheme: nothing is negotiated. Each wire part starts with a
// 4-byte sentinel:
//
//	00 00 00 00  + plaintext          the part is sent uncompressed
//	28 B5 2F FD  (Zstandard frame)     the whole part is one Zstandard frame,
//	                                   which carries Frame_Content_Size
//	37 A4 30 EC  (Zstandard dictionary) a dictionary shipment: a single-part
//	                                   message of at most 8 KiB, at most one
//	                                   per direction and connection, sent
//	                                   before any part that uses it and never
//	                                   delivered to the application
//
// Anything else, or a part shorter than 4 bytes, closes the connection with
// an error matching transport.ErrProtocol.
//
// Sending: a part shorter than 512 bytes (64 with a dictionary) goes
// uncompressed; a longer one is compressed (level 1 by default) and its
// compressed form is used only when it is smaller than the plaintext minus 4
// bytes. Every frame carries Frame_Content_Size, whatever its size.
//
// Receiving: the Frame_Content_Size of a compressed part is read first. A
// frame without it is refused, and so is one whose size would take the
// message past the socket's maximum message size (transport.ErrTooLarge),
// before any decoding. Decoding is bounded: it never produces more than the
// declared size.
//
// The codec belongs to the Transport, and a socket has one Transport, so a
// PUB that sends one message to many subscribers compresses it once: the
// Transport keeps the wire form of the last few parts it encoded and reuses
// it when the same part (same memory and same bytes) is sent again.
package zstd
