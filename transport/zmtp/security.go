package zmtp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/brookmq/brook/transport"
)

// Mechanism names in the greeting.
const (
	mechanismPlain = "PLAIN"
	mechanismCurve = "CURVE"
)

// propUserID is the property libzmq gives the authenticated user id
// under (ZMQ_MSG_PROPERTY_USER_ID).
const propUserID = "User-Id"

// authenticatedPeer is implemented by server mechanisms that ran an
// authenticator: what it said about the peer.
type authenticatedPeer interface {
	peerAuth() (userID string, metadata map[string][]byte)
}

// boxedTraffic is implemented by mechanisms whose traffic travels in
// boxes once the handshake is done (CURVE): the sending and receiving
// directions.
type boxedTraffic interface {
	messageBoxes() (send, recv *messageBox)
}

// CheckSecurity validates a Security value without starting a
// connection: a socket option calls it so a mistake shows in New rather
// than in every handshake.
func CheckSecurity(s transport.Security) error {
	switch s := s.(type) {
	case nil:
		return nil
	case PlainClient:
		return s.check()
	case *PlainClient:
		return s.check()
	case PlainServer:
		return s.check()
	case *PlainServer:
		return s.check()
	case NullServer:
		return s.check()
	case *NullServer:
		return s.check()
	case CurveClient:
		_, _, err := s.keys()
		return err
	case *CurveClient:
		_, _, err := s.keys()
		return err
	case *CurveServer:
		if s == nil || s.cookies == nil {
			return fmt.Errorf("zmtp: a CurveServer is made with NewCurveServer")
		}
		return nil
	}
	return fmt.Errorf("zmtp: unsupported security %T (mechanism %q)", s, s.Mechanism())
}

// mechanismFor returns the mechanism a handshake with cfg runs.
func (c *Conn) mechanismFor(ctx context.Context, cfg *transport.Config) (mechanism, error) {
	if cfg.Security == nil {
		return c.mech, nil
	}
	if err := CheckSecurity(cfg.Security); err != nil {
		return nil, err
	}
	env := &authEnv{
		ctx:      ctx,
		address:  zapAddress(c.rw, c.remote),
		identity: cfg.Identity,
	}
	if cfg.HandshakeTimeout > 0 {
		env.deadline = time.Now().Add(cfg.HandshakeTimeout)
	}
	switch s := cfg.Security.(type) {
	case PlainClient:
		return newPlainClient(s), nil
	case *PlainClient:
		return newPlainClient(*s), nil
	case PlainServer:
		return &plainServer{cfg: s, env: env}, nil
	case *PlainServer:
		return &plainServer{cfg: *s, env: env}, nil
	case NullServer:
		return &nullServer{cfg: s, env: env}, nil
	case *NullServer:
		return &nullServer{cfg: *s, env: env}, nil
	case CurveClient:
		return newCurveClient(s)
	case *CurveClient:
		return newCurveClient(*s)
	case *CurveServer:
		return &curveServer{srv: s, env: env}, nil
	}
	return nil, fmt.Errorf("zmtp: unsupported security %T", cfg.Security)
}

// matchGreeting checks the peer's greeting against our mechanism: the
// same name, and for PLAIN and CURVE not two servers. (Two clients
// cannot be told apart from a client and a libzmq server: libzmq 4.3
// leaves the as-server flag at 0 in every greeting.) A mismatch is
// refused with an ERROR command naming it.
func matchGreeting(mech mechanism, g greeting) error {
	if g.mechanism != mech.Name() {
		return &rejection{
			Reason: "security mechanism mismatch: expected " + mech.Name(),
			Err:    fmt.Errorf("%w: peer uses %q, we use %q", ErrMechanismMismatch, g.mechanism, mech.Name()),
		}
	}
	if !mech.AsServer() || !g.asServer {
		return nil
	}
	return &rejection{
		Reason: "both peers are " + mech.Name() + " servers",
		Err:    fmt.Errorf("%w: peer is a %s server too", ErrMechanismMismatch, mech.Name()),
	}
}

// frame returns the ERROR frame a rejection sends.
func (r *rejection) frame() []byte {
	if r.Frame != nil {
		return r.Frame
	}
	return appendCommand(nil, cmdError, errorData(r.Reason))
}

// closeExplainer is implemented by mechanisms that can say what a peer
// closing the connection at their current step usually means.
type closeExplainer interface {
	explainClose() string
}

// explainClose adds to an end of stream during the handshake what it
// likely means: libzmq closes without a word when the greeting names
// another mechanism, before it finished sending its own greeting (stage
// 0), and a mechanism may know more (a libzmq CURVE server closes on a
// HELLO for another server key, so early that its greeting is cut too).
func explainClose(mech mechanism, stage int, err error) error {
	if !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
		return err
	}
	if e, ok := mech.(closeExplainer); ok {
		if why := e.explainClose(); why != "" {
			return fmt.Errorf("%w (%s)", err, why)
		}
	}
	if stage == 0 {
		return fmt.Errorf("%w (during the greeting: libzmq closes so when the peer's security mechanism is not %s)", err, mech.Name())
	}
	return err
}

// peerRefusal turns the reason of an ERROR command received during the
// handshake into an error: a ZAP status code ("300", "400", "500", which
// is all a libzmq or brook server tells a client it refuses) becomes a
// *transport.AuthError, anything else a *transport.PeerError.
func peerRefusal(reason string) error {
	if code, ok := zapStatus(reason); ok {
		return refusedByPeer{&transport.AuthError{Status: code, ByPeer: true}, &transport.PeerError{Reason: reason}}
	}
	return &transport.PeerError{Reason: reason}
}

// refusedByPeer is an ERROR with a ZAP status code: an authentication
// failure, and a peer error.
type refusedByPeer struct {
	auth *transport.AuthError
	peer *transport.PeerError
}

func (e refusedByPeer) Error() string   { return e.auth.Error() }
func (e refusedByPeer) Unwrap() []error { return []error{e.auth, e.peer} }

// zapStatus recognises the three-digit refusals libzmq sends: 300, 400
// and 500.
func zapStatus(reason string) (int, bool) {
	if len(reason) != 3 || reason[1] != '0' || reason[2] != '0' || reason[0] < '3' || reason[0] > '5' {
		return 0, false
	}
	code, _ := strconv.Atoi(reason)
	return code, true
}

// secure applies what the mechanism established to the connection once
// its handshake succeeded: the boxes its traffic travels in, and the
// authenticated user id and metadata, which override the peer's own
// properties of the same names.
func (c *Conn) secure(mech mechanism, info transport.PeerInfo) transport.PeerInfo {
	if b, ok := mech.(boxedTraffic); ok {
		send, recv := b.messageBoxes()
		c.seal = &sealer{box: send}
		c.unseal = &unsealer{box: recv}
	}
	a, ok := mech.(authenticatedPeer)
	if !ok {
		return info
	}
	user, meta := a.peerAuth()
	info.UserID = user
	if user == "" && len(meta) == 0 {
		return info
	}
	props := make(map[string][]byte, len(info.Properties)+len(meta)+1)
	for k, v := range info.Properties {
		props[k] = v
	}
	override := func(name string, v []byte) {
		for k := range props {
			if strings.EqualFold(k, name) {
				delete(props, k)
			}
		}
		props[name] = v
	}
	for k, v := range meta {
		override(k, v)
	}
	if user != "" {
		override(propUserID, []byte(user))
	}
	info.Properties = props
	return info
}
