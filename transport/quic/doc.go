// Package quic implements the quic:// transport: ZMTP 3.1 over QUIC v1 with
// TLS 1.3 (github.com/quic-go/quic-go), following the omq-zmtp/1 profile so
// a brook peer talks to other implementations of it.
//
// A socket gets it with an option (socket.WithTransport(quic.New(tlsConf))),
// so programs that never use QUIC never link quic-go.
//
// # Wire profile
//
// One brook peer is one QUIC connection. TLS 1.3 with ALPN "omq-zmtp/1";
// the listener presents a certificate chain and the connector always
// verifies it (system roots or the tls.Config's roots; a server-name
// override changes the name checked, never whether it is checked). No
// HTTP/3, datagrams or 0-RTT.
//
// The connector opens exactly two bidirectional streams, the listener none:
//
//	stream 0  data      the unchanged ZMTP greeting, handshake and frames
//	stream 4  liveness  each direction: preface 4F 4D 51 4C 01 00 00 00
//	                    ("OMQL", version 1), then 9-byte records:
//	                    type (01 PING, 02 PONG) + 8-byte big-endian nonce;
//	                    a PONG echoes its PING's nonce
//
// Any valid liveness record proves the peer alive. ZMTP PINGs are not sent
// on the data stream (those received are still answered): liveness runs on
// its own stream, so it keeps working when the data stream is blocked by
// flow control because the application is not reading. A connection's
// timer, not a goroutine of its own, runs it: it sends a PING every
// interval and reads the liveness stream every 100 ms at most (sooner with
// a shorter interval), so a PING is answered within about 100 ms. The same
// timer looks for streams the profile does not allow, so such a stream
// ends the connection (code 4) within one liveness interval.
//
// A connection end runs no goroutine of brook's beyond its socket's
// reader and writer; quic-go runs two per connection.
//
// A connection ends with one of these application error codes:
//
//	0  completed                       graceful close
//	1  invalid setup / setup timeout   streams, preface or ZMTP handshake
//	2  invalid or ended liveness       bad preface, unknown record, stream end
//	3  liveness timeout                no valid record for the timeout
//	4  unexpected stream               any stream but 0 and 4
//	5  local abort / incomplete linger Close before both sides ended the
//	                                   data stream: data may be unsent
//
// Defaults: setup deadline 10 s (TLS, streams, preface and ZMTP
// handshake), idle timeout 10 s, keep-alive 2 s, data receive window 1 MiB,
// a liveness PING every 2 s and a liveness timeout of 10 s.
//
// # Close
//
// Conn.Close ends the connection at once and never waits for the peer.
// Unlike TCP's close it does not deliver what is still in flight: closing
// a QUIC connection ends every stream. So its code says what happened: 0
// (completed) when we had ended our side of the data stream with CloseWrite
// and had read the end of the peer's side (both said all they had to say),
// 5 otherwise. To deliver everything, do as a closing brook socket does
// within its linger time (socket.WithLinger): flush, call CloseWrite, and
// read until the peer, having read to the end, hangs up; call Close then,
// or when the linger time is over (code 5: incomplete linger). A socket
// lingering 0 closes at once (code 5: abort), and so does the peer socket
// that hangs up on reading the end of the stream without having ended its
// own side. A partial ZMTP message is never delivered, whatever happens to
// the connection.
//
// # Logging
//
// Nothing is printed. quic-go prints a warning through the standard log
// package when it cannot enlarge a UDP socket's buffers; brook sizes the
// buffers itself and reports a shortfall to the Transport's logger
// (WithLogger), at debug level, instead.
package quic
