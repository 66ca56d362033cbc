// Package zmtp implements the ZeroMQ Message Transport Protocol, version 3.1
// (RFC 23 and RFC 37), over any byte stream: TCP, unix sockets, a QUIC
// stream. A Conn speaks the NULL, PLAIN (RFC 24) and CURVE (RFC 25/26)
// security mechanisms, chosen by transport.Config.Security, and is
// interoperable with libzmq 4.3.
//
// A connection goes through two phases:
//
//	greeting   64 bytes each way, sent at once without waiting for the peer's
//	           0xFF, 8 padding bytes (never checked), 0x7F, major 3, minor 1,
//	           mechanism "NULL" (NUL padded to 20 bytes), as-server 0, 31 zeros
//	handshake  READY command each way with the socket's metadata:
//	           Socket-Type, Identity (REQ, DEALER, ROUTER), X-* properties
//	traffic    frames: flags(1) size(1, or 8 big-endian with LONG) body
//	           flags bit 0 MORE, bit 1 LONG, bit 2 COMMAND, bits 3-7 zero
//
// After the handshake, ReadMsg returns whole multipart messages; commands are
// handled inside the Conn: PING is answered with PONG, SUBSCRIBE and CANCEL
// are turned into ZMTP 3.0 subscription messages, ERROR ends the connection
// with a *transport.PeerError, unknown commands are ignored.
//
// A peer announcing version 3.0 is spoken to with 3.0 rules: subscriptions
// are sent to it as messages rather than commands.
//
// Memory: ReadMsg carves small frame bodies and frame lists out of shared
// slabs, so a retained small message keeps its slab (32 KiB) alive. Frames
// larger than a few KiB get their own allocation. Once the application
// releases messages (transport.Msg.Release), both come from pools: a slab
// is reused once every message carved from it has been released, and a
// large body once its message is. The maximum message size is checked
// against each frame's announced size before anything is allocated.
//
// Security: a mechanism runs between the greetings and the traffic (see
// mechanism.go). PLAIN and CURVE have a client and a server role, told
// by the greeting's as-server flag; the server asks a
// transport.Authenticator about each client (the ZAP request of RFC 27)
// and refuses it with an ERROR command whose reason is the status code,
// as libzmq does. After a CURVE handshake every frame travels as a
// MESSAGE command (curve_wire.go): boxed as it leaves the write buffer,
// opened as it arrives, with strictly increasing short nonces
// checked on receipt. A CURVE server keeps no state for a client between
// its WELCOME and the client's INITIATE: the connection's transient key
// travels in a cookie sealed under a key that changes every minute, and
// each cookie is accepted once.
package zmtp
