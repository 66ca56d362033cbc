package patterns

import (
	"fmt"
	"strings"
)

// Type is a socket type, numbered as in libzmq (ZMQ_PAIR = 0 up to
// ZMQ_XSUB = 10).
type Type int

// Socket types.
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

// typeInfo is everything brook knows about one socket type. The types
// table below is the one place a socket type is described: its wire name,
// the peers it may talk to (ZMTP RFC 23/37 and libzmq's compatibility
// table), whether its READY carries an Identity, whether its connecting
// pipes wait for their handshake before joining, and its state machine.
// The transports learn the first three through transport.Config (see
// Type.PeerNames and Type.AnnouncesIdentity); the socket and its proxy
// consult the rest.
type typeInfo struct {
	name  string
	peers []Type
	// identity: as in libzmq 4.3, REQ, DEALER and ROUTER announce an
	// Identity (empty when they have none) and the others never do,
	// whatever routing id they were given.
	identity bool
	// onHandshake: a connecting pipe joins only once the peer's identity
	// is known (ROUTER routes by it).
	onHandshake bool
	// reroutes: a lost peer's unsent messages go to the other peers (its
	// messages belong to no particular peer).
	reroutes bool
	make     func(Config) Pattern
}

var types = [...]typeInfo{
	Pair:   {name: "PAIR", peers: []Type{Pair}, make: func(c Config) Pattern { return newPair(c) }},
	Pub:    {name: "PUB", peers: []Type{Sub, XSub}, make: func(c Config) Pattern { return newPub(c) }},
	Sub:    {name: "SUB", peers: []Type{Pub, XPub}, make: func(c Config) Pattern { return newSub(c) }},
	Req:    {name: "REQ", peers: []Type{Rep, Router}, identity: true, make: func(c Config) Pattern { return newReq(c) }},
	Rep:    {name: "REP", peers: []Type{Req, Dealer}, make: func(c Config) Pattern { return newRep(c) }},
	Dealer: {name: "DEALER", peers: []Type{Rep, Dealer, Router}, identity: true, reroutes: true, make: func(c Config) Pattern { return newDealer(c) }},
	Router: {name: "ROUTER", peers: []Type{Req, Dealer, Router}, identity: true, onHandshake: true, make: func(c Config) Pattern { return newRouter(c) }},
	Pull:   {name: "PULL", peers: []Type{Push}, make: func(c Config) Pattern { return newPull(c) }},
	Push:   {name: "PUSH", peers: []Type{Pull}, reroutes: true, make: func(c Config) Pattern { return newPush(c) }},
	XPub:   {name: "XPUB", peers: []Type{Sub, XSub}, make: func(c Config) Pattern { return newXPub(c) }},
	XSub:   {name: "XSUB", peers: []Type{Pub, XPub}, make: func(c Config) Pattern { return newXSub(c) }},
}

// Types returns every socket type in libzmq's numbering order.
func Types() []Type {
	out := make([]Type, len(types))
	for i := range types {
		out[i] = Type(i)
	}
	return out
}

// Valid reports whether t is a known socket type.
func (t Type) Valid() bool { return t >= 0 && int(t) < len(types) }

// String returns the type's wire name: "PAIR", "PUB", ...
func (t Type) String() string {
	if !t.Valid() {
		return fmt.Sprintf("Type(%d)", int(t))
	}
	return types[t].name
}

// TypeByName returns the socket type with the given wire name, matched
// case-insensitively as ZMTP requires.
func TypeByName(name string) (Type, bool) {
	for i := range types {
		if strings.EqualFold(types[i].name, name) {
			return Type(i), true
		}
	}
	return 0, false
}

// Compatible reports whether a socket of type t may talk to a peer of
// type peer.
func (t Type) Compatible(peer Type) bool {
	if !t.Valid() {
		return false
	}
	for _, p := range types[t].peers {
		if p == peer {
			return true
		}
	}
	return false
}

// PeerNames returns the wire names of the types t may talk to, as
// transport.Config.PeerTypes wants them.
func (t Type) PeerNames() []string {
	if !t.Valid() {
		return nil
	}
	out := make([]string, len(types[t].peers))
	for i, p := range types[t].peers {
		out[i] = types[p].name
	}
	return out
}

// AnnouncesIdentity reports whether t's handshake carries an Identity
// property (REQ, DEALER and ROUTER, as in libzmq 4.3).
func (t Type) AnnouncesIdentity() bool { return t.Valid() && types[t].identity }

// AttachOnHandshake reports whether t's connecting pipes join the
// pattern only after their handshake (ROUTER, which routes by the peer's
// identity); the others queue messages for a peer not connected yet.
func (t Type) AttachOnHandshake() bool { return t.Valid() && types[t].onHandshake }

// ReroutesLostPeer reports whether a socket of type t hands the unsent
// messages of a peer it lost to its other peers (PUSH, DEALER: their
// messages belong to no particular peer); the others drop them.
func (t Type) ReroutesLostPeer() bool { return t.Valid() && types[t].reroutes }

// New returns the state machine of socket type t.
func New(t Type, cfg Config) (Pattern, error) {
	if !t.Valid() {
		return nil, fmt.Errorf("%w: socket type %d", ErrNotSupported, int(t))
	}
	return types[t].make(cfg), nil
}
