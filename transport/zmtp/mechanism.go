package zmtp

// mechanism is one ZMTP security mechanism (RFC 23 "Security"): the
// handshake commands exchanged after the greetings, which end with each
// side knowing the other's metadata, and how frames travel afterwards.
// Each Conn has its own mechanism value: handshakes are stateful.
//
// The engine owns the stream. It sends our greeting (Name, AsServer)
// together with Start's commands, checks that the peer's greeting names
// the same mechanism, then feeds every command the peer sends to Step and
// writes what Step returns, until Step reports the peer's metadata. An
// ERROR command from the peer ends the handshake before Step sees it.
type mechanism interface {
	// Name is the mechanism name in the greeting ("NULL", ...).
	Name() string
	// AsServer is the greeting's as-server flag.
	AsServer() bool
	// Start returns the encoded command frames to send right after our
	// greeting; meta is our READY metadata (RFC 23 property encoding),
	// which the mechanism carries in whichever command it sends it in.
	Start(meta []byte) ([]byte, error)
	// Step handles one handshake command from the peer. It returns the
	// encoded command frames to send in answer (nil for none) and, once
	// the handshake is complete, done with the peer's metadata. An error
	// fails the handshake; a reason in a *rejection is sent to the peer
	// in an ERROR command first.
	Step(name string, data []byte) (out []byte, peerMeta []byte, done bool, err error)
}

// rejection is a handshake failure the peer is told about with an ERROR
// command carrying Reason (RFC 23: "a peer that rejects a handshake
// SHOULD send an ERROR command").
type rejection struct {
	Reason string
	Err    error
	// Frame, when set, is the ERROR frame to send instead of the
	// standard one (PLAIN's as libzmq writes it, see plainError).
	Frame []byte
}

func (r *rejection) Error() string { return r.Err.Error() }
func (r *rejection) Unwrap() error { return r.Err }
