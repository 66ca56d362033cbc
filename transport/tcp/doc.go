// Package tcp is brook's tcp:// transport: ZMTP 3.1 over TCP, interoperable
// with libzmq. Endpoints are "tcp://host:port"; a bind may use "*" as host
// (every interface) and port 0 (the listener reports the port it got).
//
// The same code serves other schemes that are "TCP plus something": see
// NewWithOptions, which zstd+tcp uses to add its codec.
package tcp
