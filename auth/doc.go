// Package auth authenticates the peers of brook's server sockets, in the
// spirit of CZMQ's zauth and pyzmq's zmq.auth, and speaks ZAP (ZeroMQ RFC
// 27) for deployments that already run a ZAP handler.
//
// An Authenticator is a policy: addresses allowed or denied (IP
// addresses and CIDR prefixes), PLAIN users and passwords, CURVE client
// keys (listed, read from a directory of certificates that is reread
// when it changes, or decided by a callback). Give it to a server socket:
//
//	a := auth.New()
//	a.Allow("10.0.0.0/8")
//	if err := a.UseCertificateDir("/etc/brook/clients"); err != nil { ... }
//	srv, err := socket.New(socket.Router, socket.WithCurveServer(serverKeys, a))
//
// Each connection is then put to it once, during its handshake. The
// verdict: the status code of ZAP (200 admitted, 400 refused), the user
// id the application sees in transport.PeerInfo.UserID (the PLAIN user
// name, the CURVE client key in Z85), and metadata (a certificate's).
//
// ZAP over inproc, for programs that mix brook with libzmq-style ZAP
// handlers: ServeZAP makes any transport.Authenticator the process's ZAP
// handler (a ROUTER bound at inproc://zeromq.zap.01), and a ZAPClient is
// a transport.Authenticator that asks whatever handler is bound there,
// with the request and reply frames of RFC 27.
package auth
