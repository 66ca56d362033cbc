package zmtp

import (
	"encoding/binary"
	"fmt"
)

// CURVE command sizes, counting the data after the command name.
const (
	curveHelloData   = 2 + 72 + keySize + shortNonce + 64 + tagSize // 194: version, padding, C', nonce, box
	curveWelcomeData = longNonce + keySize + cookieSize + tagSize   // 160: nonce, box of S' and cookie
	curveInitiateMin = cookieSize + shortNonce + 128 + tagSize      // 248: cookie, nonce, box of C, vouch (and metadata)
	curveReadyMin    = shortNonce + tagSize                         // 24: nonce, box of the metadata
	curvePadding     = 72
)

// curveClient runs the client's handshake: HELLO at once, INITIATE on
// WELCOME, done on READY. A client never sends ERROR (RFC 26): its
// failures close the connection.
type curveClient struct {
	keys      CurveClient
	long      dhKey // C's secret, ready
	meta      []byte
	tpub      [keySize]byte // C'
	tkey      dhKey         // c'
	helloKey  [keySize]byte // box key of (S, c'), for HELLO and WELCOME
	key       [keySize]byte // box key of (S', c'), for INITIATE, READY and MESSAGE
	sendNonce uint64
	peerNonce uint64
	step      int // 0: HELLO sent; 1: INITIATE sent; 2: done
}

func newCurveClient(cfg CurveClient) (*curveClient, error) {
	keys, long, err := cfg.keys()
	if err != nil {
		return nil, err
	}
	return &curveClient{keys: keys, long: long}, nil
}

func (*curveClient) Name() string   { return mechanismCurve }
func (*curveClient) AsServer() bool { return false }

func (c *curveClient) Start(meta []byte) ([]byte, error) {
	c.meta = meta
	var err error
	if c.tkey, err = generateDHKey(); err != nil {
		return nil, err
	}
	c.tpub = c.tkey.public()
	if c.helloKey, err = c.tkey.boxKey(&c.keys.ServerKey); err != nil {
		return nil, fmt.Errorf("zmtp: CURVE server key is not a usable public key: %w", err)
	}
	c.sendNonce = 1
	nonce := shortNonceBytes(c.sendNonce)
	data := make([]byte, 0, curveHelloData)
	data = append(data, 1, 0) // CurveZMQ 1.0
	data = append(data, make([]byte, curvePadding)...)
	data = append(data, c.tpub[:]...)
	data = append(data, nonce...)
	var zeros [64]byte
	data = sealBox(data, zeros[:], nonce24(prefixHello, nonce), &c.helloKey)
	return appendCommand(nil, cmdHello, data), nil
}

func (c *curveClient) Step(name string, data []byte) ([]byte, []byte, bool, error) {
	switch {
	case c.step == 0 && name == cmdWelcome:
		out, err := c.welcome(data)
		if err != nil {
			return nil, nil, false, err
		}
		c.step = 1
		return out, nil, false, nil
	case c.step == 1 && name == cmdReady:
		meta, err := c.ready(data)
		if err != nil {
			return nil, nil, false, err
		}
		c.step = 2
		return nil, meta, true, nil
	}
	return nil, nil, false, protocolErrorf("CURVE server sent %q out of turn", name)
}

// welcome opens the server's WELCOME and answers with INITIATE.
func (c *curveClient) welcome(data []byte) ([]byte, error) {
	if len(data) != curveWelcomeData {
		return nil, protocolErrorf("CURVE WELCOME carries %d bytes, want %d", len(data), curveWelcomeData)
	}
	plain, err := openBox(data[longNonce:], nonce24(prefixWelcome, data[:longNonce]), &c.helloKey)
	clear(c.helloKey[:])
	if err != nil {
		return nil, fmt.Errorf("%w: the WELCOME is not from the server whose key we have", err)
	}
	var serverTransient [keySize]byte
	copy(serverTransient[:], plain[:keySize])
	cookie := plain[keySize : keySize+cookieSize]
	if c.key, err = c.tkey.boxKey(&serverTransient); err != nil {
		return nil, err
	}
	c.tkey = dhKey{}

	// The vouch: Box[C' + S](C->S'), proving we hold the secret key of C.
	vouchKey, err := c.long.boxKey(&serverTransient)
	if err != nil {
		return nil, err
	}
	vouchNonce, err := randomNonce()
	if err != nil {
		return nil, err
	}
	var vouchPlain [2 * keySize]byte
	copy(vouchPlain[:], c.tpub[:])
	copy(vouchPlain[keySize:], c.keys.ServerKey[:])
	plainInit := make([]byte, 0, keySize+vouchSize+len(c.meta))
	plainInit = append(plainInit, c.keys.PublicKey[:]...)
	plainInit = append(plainInit, vouchNonce...)
	plainInit = sealBox(plainInit, vouchPlain[:], nonce24(prefixVouch, vouchNonce), &vouchKey)
	clear(vouchKey[:])
	plainInit = append(plainInit, c.meta...)

	c.sendNonce++
	nonce := shortNonceBytes(c.sendNonce)
	out := make([]byte, 0, cookieSize+shortNonce+len(plainInit)+tagSize)
	out = append(out, cookie...)
	out = append(out, nonce...)
	out = sealBox(out, plainInit, nonce24(prefixInitiate, nonce), &c.key)
	if len(out)+1+len(cmdInitiate) > maxHandshakeCommand {
		return nil, fmt.Errorf("zmtp: CURVE INITIATE with our properties takes %d bytes, more than the %d a peer accepts", len(out), maxHandshakeCommand)
	}
	return appendCommand(nil, cmdInitiate, out), nil
}

// ready opens the server's READY and returns its metadata.
func (c *curveClient) ready(data []byte) ([]byte, error) {
	if len(data) < curveReadyMin {
		return nil, protocolErrorf("CURVE READY carries %d bytes, want at least %d", len(data), curveReadyMin)
	}
	meta, err := openBox(data[shortNonce:], nonce24(prefixReady, data[:shortNonce]), &c.key)
	if err != nil {
		return nil, fmt.Errorf("%w: READY", err)
	}
	c.peerNonce = binary.BigEndian.Uint64(data[:shortNonce])
	return meta, nil
}

func (c *curveClient) explainClose() string {
	if c.step == 0 {
		return "before answering our CURVE HELLO: libzmq closes so when its key is not the server key we were given, or when it does not speak CURVE"
	}
	return ""
}

func (c *curveClient) messageBoxes() (send, recv *messageBox) {
	send = newMessageBox(&c.key, prefixMsgC, c.sendNonce)
	recv = newMessageBox(&c.key, prefixMsgS, c.peerNonce)
	clear(c.key[:])
	return send, recv
}
