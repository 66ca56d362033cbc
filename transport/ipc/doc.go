// Package ipc is brook's ipc:// transport: ZMTP 3.1 over unix domain stream
// sockets, interoperable with libzmq. Endpoints:
//
//	ipc:///tmp/feed.sock   absolute path
//	ipc://feed.sock        path relative to the working directory
//	ipc://@feed            Linux abstract socket (no file)
//	ipc://*                bind only: a fresh socket file in a new temporary
//	                       directory, reported by Listener.Endpoint
//
// Paths may be at most 107 bytes (the kernel's sun_path limit). Binding
// removes a stale socket file left by a dead process, but only after
// checking that nothing accepts connections on it; closing the listener
// removes its file.
package ipc
