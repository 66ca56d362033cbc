package inproc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/brookmq/brook/transport"
)

// peerVersion is the ZMTP version inproc peers report: they behave as 3.1
// peers (subscriptions, properties) without any wire in between.
const peerVersion = 31

// errHandshakeTwice is returned by a second call to Handshake.
var errHandshakeTwice = errors.New("brook: inproc: handshake already performed")

// Handshake exchanges cfg with the peer's and returns what the peer
// announced: its socket type, identity (when its Config says
// AnnounceIdentity, as on the wire) and properties, which include
// "Socket-Type" and "Identity" as READY would carry them. Version is 31.
//
// Handshake waits for the peer to call its own Handshake, at most until
// ctx ends (an error wrapping ctx's error) or cfg.HandshakeTimeout passes
// (an error matching transport.ErrHandshakeTimeout). When the socket types
// cannot talk to each other (transport.Compatible), both sides fail with
// an error matching transport.ErrIncompatible. A failed Handshake closes
// the connection, so no message ever flows over it. Handshake may be
// called once. A nil cfg announces nothing (no socket type), which no
// peer is compatible with.
func (c *Conn) Handshake(ctx context.Context, cfg *transport.Config) (transport.PeerInfo, error) {
	if !c.started.CompareAndSwap(false, true) {
		return transport.PeerInfo{}, errHandshakeTwice
	}
	if cfg == nil {
		cfg = &transport.Config{}
	}
	c.p.hello[c.side] <- announce(cfg, c.p.addr) // capacity 1, sent once: never blocks

	if cfg.HandshakeTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, cfg.HandshakeTimeout, transport.ErrHandshakeTimeout)
		defer cancel()
	}
	var peer hello
	select {
	case peer = <-c.p.hello[1-c.side]:
	case <-c.p.done:
		// The peer may have shaken hands, written and closed before we
		// got here: its announcement is then waiting and its messages
		// are still ours to read.
		select {
		case peer = <-c.p.hello[1-c.side]:
		default:
			return c.fail(transport.ErrClosed)
		}
	case <-ctx.Done():
		return c.fail(context.Cause(ctx))
	}
	if !cfg.PeerAllowed(peer.info.SocketType) || !peer.allows(cfg.SocketType) {
		return c.fail(fmt.Errorf("%w: %s cannot talk to %s", transport.ErrIncompatible, cfg.SocketType, peer.info.SocketType))
	}
	if c.p.abandoned.Load() {
		return c.fail(errPeerAbandoned)
	}
	return peer.info, nil
}

// errPeerAbandoned is the handshake error of a side whose peer announced
// itself but then failed its own handshake (timed out, say).
var errPeerAbandoned = fmt.Errorf("%w: the peer abandoned the handshake", transport.ErrClosed)

// fail closes the connection and returns err annotated with the address.
func (c *Conn) fail(err error) (transport.PeerInfo, error) {
	c.p.abandoned.Store(true)
	c.Close()
	return transport.PeerInfo{}, fmt.Errorf("inproc: handshake on %s: %w", c.p.addr, err)
}

// hello is what one side of a connection tells the other in its
// handshake: what the peer learns about it, and the peer types it accepts
// (so both sides refuse an incompatible pair, as ZMTP peers do with their
// ERROR commands).
type hello struct {
	info  transport.PeerInfo
	peers []string // nil: any
}

// allows reports whether the side that sent h accepts a peer of type t.
func (h hello) allows(t string) bool {
	return (&transport.Config{PeerTypes: h.peers}).PeerAllowed(t)
}

// announce builds what the peer learns about us: a PeerInfo the peer owns
// (identity and properties are copied, since cfg stays the caller's).
func announce(cfg *transport.Config, addr string) hello {
	props := make(map[string][]byte, len(cfg.Properties)+2)
	for k, v := range cfg.Properties {
		props[k] = bytes.Clone(v)
	}
	props["Socket-Type"] = []byte(cfg.SocketType)
	info := transport.PeerInfo{
		SocketType: strings.ToUpper(cfg.SocketType),
		Properties: props,
		Version:    peerVersion,
		RemoteAddr: addr,
	}
	if cfg.AnnounceIdentity {
		id := bytes.Clone(cfg.Identity)
		if id == nil {
			id = []byte{}
		}
		props["Identity"] = id
		if len(id) > 0 {
			info.Identity = id
		}
	}
	return hello{info: info, peers: slices.Clone(cfg.PeerTypes)}
}
