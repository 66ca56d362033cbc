package zmtp

// nullMechanism is ZMTP's NULL mechanism (RFC 23): no security, each side
// sends READY with its metadata and the handshake is done when the peer's
// READY arrives.
type nullMechanism struct{}

// mechanismNull is NULL's name in the greeting.
const mechanismNull = "NULL"

func (nullMechanism) Name() string   { return mechanismNull }
func (nullMechanism) AsServer() bool { return false }

func (nullMechanism) Start(meta []byte) ([]byte, error) {
	return appendCommand(nil, cmdReady, meta), nil
}

func (nullMechanism) Step(name string, data []byte) ([]byte, []byte, bool, error) {
	if name != cmdReady {
		return nil, nil, false, protocolErrorf("peer sent %s instead of READY", name)
	}
	return nil, data, true, nil
}
