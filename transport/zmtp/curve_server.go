package zmtp

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// curveServer runs the server's handshake: WELCOME on HELLO, and on
// INITIATE the authentication and READY. Between the two it keeps only
// the HELLO's nonce: its transient keys travel in the cookie.
type curveServer struct {
	srv        *CurveServer
	env        *authEnv
	meta       []byte
	helloNonce uint64
	step       int           // 0: awaiting HELLO; 1: awaiting INITIATE; 2: done
	key        [keySize]byte // box key of (C', s') once INITIATE opened
	peerNonce  uint64
	auth       *peerAuth
}

func (*curveServer) Name() string   { return mechanismCurve }
func (*curveServer) AsServer() bool { return true }

func (s *curveServer) Start(meta []byte) ([]byte, error) {
	s.meta = meta
	return nil, nil
}

func (s *curveServer) Step(name string, data []byte) ([]byte, []byte, bool, error) {
	switch {
	case s.step == 0 && name == cmdHello:
		out, err := s.hello(data)
		if err != nil {
			return nil, nil, false, err
		}
		s.step = 1
		return out, nil, false, nil
	case s.step == 1 && name == cmdInitiate:
		out, meta, err := s.initiate(data)
		if err != nil {
			return nil, nil, false, err
		}
		s.step = 2
		return out, meta, true, nil
	}
	return nil, nil, false, &rejection{Reason: "unexpected " + printable(name), Err: protocolErrorf("CURVE client sent %q out of turn", name)}
}

// refuse is a handshake failure the client is told about.
func refuse(reason string, err error) error { return &rejection{Reason: reason, Err: err} }

// hello checks the client's HELLO and answers WELCOME with a cookie.
func (s *curveServer) hello(data []byte) ([]byte, error) {
	if len(data) != curveHelloData {
		return nil, refuse("malformed HELLO", protocolErrorf("CURVE HELLO carries %d bytes, want %d", len(data), curveHelloData))
	}
	if data[0] != 1 || data[1] != 0 {
		return nil, refuse("unsupported CurveZMQ version", protocolErrorf("CURVE HELLO asks for CurveZMQ %d.%d, we speak 1.0", data[0], data[1]))
	}
	if !allZero(data[2 : 2+curvePadding]) {
		return nil, refuse("malformed HELLO", protocolErrorf("CURVE HELLO padding is not zero"))
	}
	p := data[2+curvePadding:]
	var clientTransient [keySize]byte
	copy(clientTransient[:], p[:keySize])
	nonce := p[keySize : keySize+shortNonce]
	helloKey, err := s.srv.secret.boxKey(&clientTransient)
	if err == nil {
		var sig []byte
		sig, err = openBox(p[keySize+shortNonce:], nonce24(prefixHello, nonce), &helloKey)
		if err == nil && !allZero(sig) {
			err = ErrDecrypt
		}
	}
	if err != nil {
		clear(helloKey[:])
		return nil, refuse("HELLO does not open: the client has another server key", fmt.Errorf("%w: HELLO (the client has another server key)", err))
	}
	s.helloNonce = binary.BigEndian.Uint64(nonce)

	transient, err := generateDHKey()
	if err != nil {
		return nil, err
	}
	serverTransient, serverTransientSecret := transient.public(), transient.secret()
	cookie, err := s.srv.cookies.seal(&clientTransient, &serverTransientSecret)
	clear(serverTransientSecret[:])
	if err != nil {
		return nil, err
	}
	welcomeNonce, err := randomNonce()
	if err != nil {
		return nil, err
	}
	plain := make([]byte, 0, keySize+cookieSize)
	plain = append(plain, serverTransient[:]...)
	plain = append(plain, cookie...)
	out := make([]byte, 0, curveWelcomeData)
	out = append(out, welcomeNonce...)
	out = sealBox(out, plain, nonce24(prefixWelcome, welcomeNonce), &helloKey)
	clear(helloKey[:])
	return appendCommand(nil, cmdWelcome, out), nil
}

// initiate recovers the connection's keys from the cookie, checks the
// client's vouch, authenticates its long-term key and answers READY.
func (s *curveServer) initiate(data []byte) ([]byte, []byte, error) {
	if len(data) < curveInitiateMin {
		return nil, nil, refuse("malformed INITIATE", protocolErrorf("CURVE INITIATE carries %d bytes, want at least %d", len(data), curveInitiateMin))
	}
	clientTransient, serverTransientSecret, err := s.srv.cookies.open(data[:cookieSize])
	switch {
	case errors.Is(err, ErrReplay):
		return nil, nil, refuse("cookie already used", fmt.Errorf("%w: INITIATE cookie", err))
	case err != nil:
		return nil, nil, refuse("invalid or expired cookie", fmt.Errorf("%w: INITIATE cookie (forged, or older than its key)", err))
	}
	defer clear(serverTransientSecret[:])
	nonce := data[cookieSize : cookieSize+shortNonce]
	n := binary.BigEndian.Uint64(nonce)
	if n <= s.helloNonce {
		return nil, nil, refuse("nonce not increasing", fmt.Errorf("%w: INITIATE nonce %d after HELLO nonce %d", ErrReplay, n, s.helloNonce))
	}
	transient, err := newDHKey(serverTransientSecret)
	if err != nil {
		return nil, nil, refuse("invalid cookie", err)
	}
	if s.key, err = transient.boxKey(&clientTransient); err != nil {
		return nil, nil, refuse("invalid transient key", err)
	}
	plain, err := openBox(data[cookieSize+shortNonce:], nonce24(prefixInitiate, nonce), &s.key)
	if err != nil {
		return nil, nil, refuse("INITIATE does not open", fmt.Errorf("%w: INITIATE", err))
	}
	var clientKey [keySize]byte
	copy(clientKey[:], plain[:keySize])
	vouchNonce := plain[keySize : keySize+longNonce]
	vouchKey, err := transient.boxKey(&clientKey)
	if err != nil {
		return nil, nil, refuse("invalid client key", err)
	}
	vouch, err := openBox(plain[keySize+longNonce:keySize+vouchSize], nonce24(prefixVouch, vouchNonce), &vouchKey)
	clear(vouchKey[:])
	if err != nil {
		return nil, nil, refuse("vouch does not open", fmt.Errorf("%w: INITIATE vouch", err))
	}
	if !equalKeys(vouch[:keySize], clientTransient[:]) || !equalKeys(vouch[keySize:], s.srv.public[:]) {
		return nil, nil, refuse("vouch does not match", fmt.Errorf("%w: the INITIATE vouch names other keys", ErrDecrypt))
	}
	meta := plain[keySize+vouchSize:]
	if _, err := parseMetadata(meta); err != nil {
		return nil, nil, refuse("malformed INITIATE metadata", err)
	}
	if s.srv.auth != nil {
		if s.auth, err = s.env.authenticate(s.srv.auth, s.srv.domain, mechanismCurve, clientKey[:]); err != nil {
			return nil, nil, err
		}
	}
	s.peerNonce = n

	const readyNonce = 1
	rn := shortNonceBytes(readyNonce)
	out := make([]byte, 0, shortNonce+len(s.meta)+tagSize)
	out = append(out, rn...)
	out = sealBox(out, s.meta, nonce24(prefixReady, rn), &s.key)
	return appendCommand(nil, cmdReady, out), meta, nil
}

func (s *curveServer) messageBoxes() (send, recv *messageBox) {
	send = newMessageBox(&s.key, prefixMsgS, 1) // READY took nonce 1
	recv = newMessageBox(&s.key, prefixMsgC, s.peerNonce)
	clear(s.key[:])
	return send, recv
}

func (s *curveServer) peerAuth() (string, map[string][]byte) {
	if s.auth == nil {
		return "", nil
	}
	return s.auth.peerAuth()
}
