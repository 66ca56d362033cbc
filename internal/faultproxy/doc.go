// Package faultproxy is a TCP proxy for tests that injects network faults
// into live connections: stalls, black holes, cuts after an exact number
// of bytes, resets, refused connections, bandwidth limits and latency.
//
// A Proxy listens on 127.0.0.1 (port chosen by the kernel, see Addr) and
// forwards every connection it accepts to one target address, byte for
// byte. Put it between two peers by connecting the client to Addr instead
// of the target:
//
//	p, err := faultproxy.New(pull.LastEndpoint()[len("tcp://"):])
//	...
//	push.Connect("tcp://" + p.Addr())
//	p.Stall(faultproxy.ToClient)   // the PULL's replies stop coming
//	p.ResetAll()                   // every connection dies with RST
//
// # Directions
//
// Each connection carries bytes in two directions, ToTarget (what the
// client sends) and ToClient (what the target sends back). Direction
// values are bits: Both selects the two at once.
//
// # Controls
//
// Controls act at once on every connection, open or yet to come, and can
// be changed while bytes flow. Per direction:
//
//   - Pass forwards bytes (the initial mode).
//   - Stall stops forwarding but keeps the connection: the proxy stops
//     reading, so bytes pile up in the kernel's buffers and the sender's
//     writes eventually block, as behind a frozen peer.
//   - BlackHole reads and discards: the sender's writes succeed, nothing
//     arrives, as on a link that silently drops.
//   - CutAfter forwards exactly n more bytes, then cuts the connection
//     that carried the last of them: the receiving side gets those bytes
//     and then the end of the stream, the sending side a reset. With n
//     inside a frame, that is a cut mid-frame.
//   - SetBandwidth paces forwarding to a number of bytes per second,
//     shared by all connections (one link's capacity).
//   - SetLatency delays each byte by a fixed time from the moment the
//     proxy read it; bytes keep flowing meanwhile (up to the proxy's
//     in-flight limit), as on a long link.
//
// For the whole proxy:
//
//   - ResetAll resets every open connection on both sides (RST, through
//     SO_LINGER 0).
//   - SetRefusing refuses new connections: on Linux the port stays
//     reserved but nobody listens, so a dial fails with ECONNREFUSED;
//     elsewhere connections are accepted and reset at once.
//   - Heal lifts every fault.
//
// A connection also passes on what its ends do: end of stream (FIN) is
// forwarded as a half-close once the bytes before it are delivered; a
// reset or an error on either side resets both. When the target refuses
// the proxy's dial, the client's connection is reset.
//
// # Observing
//
// Stats counts connections and bytes read, forwarded and discarded per
// direction; WaitStats blocks until the counters satisfy a condition, so
// a test waits for "the proxy has seen 3 connections" or "100 bytes were
// black-holed" instead of sleeping.
//
// # Limits
//
// Each direction of a connection holds at most 128 KiB read but not yet
// forwarded (16 KiB reads, 8 in flight); beyond that the proxy stops
// reading and TCP flow control pushes back on the sender. Timing is as
// precise as the scheduler allows: bandwidth pacing works in pieces of
// 20 ms of traffic, so it is accurate over longer spans, not per byte.
//
// Close resets every connection, stops listening and returns once every
// goroutine of the proxy has ended.
package faultproxy
