// Package interop holds brook's interoperability and failure tests: brook
// sockets against libzmq 4.3 (through pyzmq peers, see internal/pyzmq) and
// against go-zeromq/zmq4, reconnection after a peer process is killed,
// and misbehaving raw peers (oversized frames, wrong socket types,
// garbage, stalled handshakes).
//
// The package has no API: its non-test files are the helpers the tests
// share (a libzmq peer driven over a JSON-lines protocol, a recorder of
// monitor events, and a minimal hand-written ZMTP encoder for raw peers,
// written independently of transport/zmtp so it can serve as an oracle).
//
// Run it with
//
//	go test -race ./interop/
//
// It needs /usr/bin/python3 with the zmq module (apt-get install -y
// libzmq3-dev python3-zmq). Without it the libzmq tests skip, except when
// the CI environment variable is set (to any value): then they fail.
package interop
