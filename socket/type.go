package socket

import "fmt"

// Type is a socket type, numbered as in libzmq.
type Type int

// Socket types (values 0..10 as in libzmq's ZMQ_PAIR..ZMQ_XSUB).
const (
	Pair Type = iota
	Pub
	Sub
	Req
	Rep
	Dealer
	Router
	Pull
	Push
	XPub
	XSub
)

var typeNames = [...]string{"PAIR", "PUB", "SUB", "REQ", "REP", "DEALER", "ROUTER", "PULL", "PUSH", "XPUB", "XSUB"}

// String returns the type's ZMTP name: "PAIR", "PUB", ...
func (t Type) String() string {
	if t < 0 || int(t) >= len(typeNames) {
		return fmt.Sprintf("Type(%d)", int(t))
	}
	return typeNames[t]
}

func (t Type) valid() bool { return t >= 0 && int(t) < len(typeNames) }
