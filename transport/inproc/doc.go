// Package inproc is the in-process transport of brook: endpoints named
// "inproc://name" connect sockets of the same program through goroutine to
// goroutine pipes that carry transport.Msg values as they are, with no
// encoding and no copy of the frames.
//
// Names live in a Namespace. Sockets share Default() unless they are given
// another one, so two sockets of one process meet by name exactly as two
// libzmq sockets of one context do; tests that want isolation use
// NewNamespace.
//
// Either side may come first. A Dial on a name nobody has bound waits
// until a Listener binds it (or the Dial's context ends), so a connecting
// socket's retry loop completes the moment the binder appears; a Dial with
// a context that is already done is a non-blocking attempt that fails at
// once with an error matching transport.ErrNoEndpoint when the name is not
// bound. Binding a bound name fails with transport.ErrAddrInUse, and
// closing a Listener frees the name for the next binder.
//
// Each direction of a connection is a bounded queue (QueueCapacity
// messages). The writer appends to it under a mutex and the reader takes
// the whole batch in one swap, so a busy pipe costs one lock per batch
// rather than one per message, and neither side allocates per message.
// Messages written before either side closes are still delivered to the
// other side, which then reads an error matching transport.ErrClosed.
//
// inproc does not enforce Config.MaxMsgSize: nothing is decoded, so there
// is nothing to protect (as in libzmq, where the limit lives in the stream
// decoder).
package inproc
