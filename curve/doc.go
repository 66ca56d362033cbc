// Package curve holds the keys of the CURVE security mechanism (ZeroMQ RFC
// 26, CurveZMQ): Curve25519 key pairs, their Z85 text form (RFC 32), and
// certificate files in the format CZMQ (zcert) and pyzmq (zmq.auth)
// read and write, so keys move between brook, pyzmq, CZMQ and libzmq
// unchanged.
//
// A key is 32 bytes; as text it is 40 Z85 characters, as in libzmq's
// ZMQ_CURVE_*KEY options and zmq_curve_keypair:
//
//	kp, _ := curve.NewKeyPair()
//	fmt.Println(kp.Public)             // rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7
//	k, err := curve.ParseKey("rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7")
//
// A certificate file is ZPL text (ZeroMQ RFC 4) with a "curve" section
// holding "public-key" and, in a secret certificate, "secret-key", both
// quoted Z85, and a "metadata" section of name = value pairs:
//
//	#   ZeroMQ CURVE Public Certificate
//	metadata
//	    name = "alice"
//	curve
//	    public-key = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID"
//
// Certificate.Save writes the public certificate to a path and the secret
// one to the same path with "_secret" appended (readable by the owner
// only), which is both CZMQ's naming (name, name_secret) and pyzmq's
// (name.key, name.key_secret). LoadPublicKeys reads a directory of public
// certificates the way CZMQ's certificate store does.
//
// The package imports nothing of brook; the socket options take its
// types directly.
package curve
