package socket

import "github.com/brookmq/brook/patterns"

// Type is a socket type, numbered as in libzmq. String returns its wire
// name ("PAIR", "PUB", ...). Everything brook knows about each type (its
// peers, its handshake, its state machine) lives in one table in package
// patterns.
type Type = patterns.Type

// Socket types (values 0..10 as in libzmq's ZMQ_PAIR..ZMQ_XSUB).
const (
	Pair   = patterns.Pair
	Pub    = patterns.Pub
	Sub    = patterns.Sub
	Req    = patterns.Req
	Rep    = patterns.Rep
	Dealer = patterns.Dealer
	Router = patterns.Router
	Pull   = patterns.Pull
	Push   = patterns.Push
	XPub   = patterns.XPub
	XSub   = patterns.XSub
)
