package zmtp

import (
	"context"
	"fmt"
	"testing"

	"golang.org/x/crypto/nacl/secretbox"

	"github.com/brookmq/brook/transport"
)

// BenchmarkSecureConn measures one-way throughput of single-frame
// messages over a loopback TCP pair, NULL and CURVE side by side (the
// write and read paths of BenchmarkConn): what boxing each frame costs.
//
//	go test -run '^$' -bench SecureConn -benchmem ./transport/zmtp/
func BenchmarkSecureConn(b *testing.B) {
	for _, size := range []int{256, 64 << 10} {
		for _, mech := range []string{"NULL", "CURVE"} {
			b.Run(fmt.Sprintf("%s/%dB", mech, size), func(b *testing.B) {
				var w, r *Conn
				if mech == "CURVE" {
					w, r = curvePair(b, Options{})
				} else {
					w, r = tcpConns(b, Options{})
					mustHandshake(b, w, r, &transport.Config{SocketType: "PUSH"}, &transport.Config{SocketType: "PULL"})
				}
				benchOneWay(b, w, r, size)
			})
		}
	}
}

// BenchmarkSecureHandshake measures whole handshakes, both ends, over a
// fresh loopback TCP connection each: the cost of a connection, in
// handshakes per second (CURVE's is four Curve25519 operations on each
// side).
//
//	go test -run '^$' -bench SecureHandshake ./transport/zmtp/
func BenchmarkSecureHandshake(b *testing.B) {
	server, client := newTestKeys(b), newTestKeys(b)
	srvSec := curveServerFor(b, server, nil, "")
	for _, mech := range []string{"NULL", "PLAIN", "CURVE"} {
		b.Run(mech, func(b *testing.B) {
			cfgC := &transport.Config{SocketType: "PUSH"}
			cfgS := &transport.Config{SocketType: "PULL"}
			switch mech {
			case "PLAIN":
				cfgC.Security = PlainClient{Username: "u", Password: "p"}
				cfgS.Security = PlainServer{Authenticator: answer(transport.AuthReply{Status: 200})}
			case "CURVE":
				cfgC.Security = CurveClient{ServerKey: server.public, SecretKey: client.secret}
				cfgS.Security = srvSec
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				a, c := tcpPair(b)
				cw := NewConn(a, "c", "s", Options{})
				sr := NewConn(c, "s", "c", Options{})
				errc := make(chan error, 1)
				go func() {
					_, err := sr.Handshake(context.Background(), cfgS)
					errc <- err
				}()
				if _, err := cw.Handshake(context.Background(), cfgC); err != nil {
					b.Fatal(err)
				}
				if err := <-errc; err != nil {
					b.Fatal(err)
				}
				_ = cw.Close()
				_ = sr.Close()
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "handshakes/s")
		})
	}
}

// BenchmarkMessageBox measures the crypto of one MESSAGE alone, beside
// NaCl's secretbox from x/crypto on the same bytes: the ceiling of the
// CURVE data path per core, which the connection benchmarks above sit
// under. (libsodium, which libzmq uses, did about 1.8x secretbox's bytes
// per second on the 2-core development machine: see the commit that
// added this benchmark.)
//
//	go test -run '^$' -bench MessageBox ./transport/zmtp/
func BenchmarkMessageBox(b *testing.B) {
	var key [keySize]byte
	nonce := nonce24(prefixMsgC, shortNonceBytes(1))
	for _, size := range []int{256, 64 << 10} {
		plain := make([]byte, size)
		sealed := secretbox.Seal(nil, plain, nonce, &key)
		b.Run(fmt.Sprintf("secretbox.Seal/%dB", size), func(b *testing.B) {
			out := make([]byte, 0, size+tagSize)
			b.SetBytes(int64(size))
			for range b.N {
				out = secretbox.Seal(out[:0], plain, nonce, &key)
			}
		})
		b.Run(fmt.Sprintf("seal/%dB", size), func(b *testing.B) {
			mb := newMessageBox(&key, prefixMsgC, 0)
			var ks keystream
			ct := make([]byte, size)
			b.SetBytes(int64(size))
			for range b.N {
				mb.sealPieces(&ks, 1, ct, plain)
			}
		})
		b.Run(fmt.Sprintf("secretbox.Open/%dB", size), func(b *testing.B) {
			out := make([]byte, 0, size)
			b.SetBytes(int64(size))
			for range b.N {
				var ok bool
				if out, ok = secretbox.Open(out[:0], sealed, nonce, &key); !ok {
					b.Fatal("does not open")
				}
			}
		})
		b.Run(fmt.Sprintf("open/%dB", size), func(b *testing.B) {
			mb := newMessageBox(&key, prefixMsgC, 0)
			var ks keystream
			tag := [tagSize]byte(sealed[:tagSize])
			ct := make([]byte, size)
			dst := make([]byte, size)
			b.SetBytes(int64(size))
			for range b.N {
				copy(ct, sealed[tagSize:]) // stands for the read into the buffer
				if !mb.verify(&ks, 1, &tag, ct) {
					b.Fatal("does not open")
				}
				ks.xor(dst, ct)
			}
		})
	}
}
