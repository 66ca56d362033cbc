package zmtp

import (
	"fmt"

	"github.com/brookmq/brook/transport"
)

// NullServer is the NULL mechanism with authentication: no credentials,
// but each peer is put to Authenticator (mechanism "NULL", no
// credentials), which can refuse it by address, as libzmq does for a
// NULL socket with a ZAP domain. Both ends of a NULL connection are
// peers: whichever has a NullServer checks the other.
type NullServer struct {
	Authenticator transport.Authenticator
	// Domain is passed to the authenticator (libzmq's ZAP_DOMAIN).
	Domain string
}

// Mechanism returns "NULL".
func (NullServer) Mechanism() string { return mechanismNull }

func (n NullServer) check() error {
	if n.Authenticator == nil {
		return fmt.Errorf("zmtp: a NullServer needs an Authenticator")
	}
	return nil
}

// nullServer asks the authenticator before sending READY. A peer it
// refuses gets no READY: its READY is answered with an ERROR.
type nullServer struct {
	cfg     NullServer
	env     *authEnv
	auth    *peerAuth
	refusal error
}

func (*nullServer) Name() string   { return mechanismNull }
func (*nullServer) AsServer() bool { return false }

func (n *nullServer) Start(meta []byte) ([]byte, error) {
	a, err := n.env.authenticate(n.cfg.Authenticator, n.cfg.Domain, mechanismNull)
	if err != nil {
		if _, ok := err.(*rejection); !ok {
			return nil, err // status 300: disconnect without a word
		}
		n.refusal = err
		return nil, nil
	}
	n.auth = a
	return nullMechanism{}.Start(meta)
}

func (n *nullServer) Step(name string, data []byte) ([]byte, []byte, bool, error) {
	if n.refusal != nil {
		return nil, nil, false, n.refusal
	}
	return nullMechanism{}.Step(name, data)
}

func (n *nullServer) peerAuth() (string, map[string][]byte) { return n.auth.peerAuth() }
