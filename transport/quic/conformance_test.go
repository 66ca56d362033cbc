package quic

import (
	"strings"
	"testing"

	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/transporttest"
)

func TestConformance(t *testing.T) {
	server, client := certs(t)
	transporttest.Run(t, func(t *testing.T) (transport.Transport, string) {
		if strings.HasSuffix(t.Name(), "/DrainAfterPeerClose") {
			// That property is TCP's close: a Close that still delivers
			// what was flushed. Closing a QUIC connection ends every
			// stream at once, and Conn.Close no longer keeps the
			// connection up behind the caller's back: delivery is
			// CloseWrite's (the CloseWrite subtest, TestGracefulClose)
			// and a closing socket lingers with it
			// (TestSocketCloseDeliversWithinLinger); TestCloseAborts
			// checks what Close does instead.
			t.Skip("quic: Close discards what is in flight by design; see CloseWrite")
		}
		// One Transport for both roles: it needs the certificate to
		// listen and the roots to dial.
		conf := server.Clone()
		conf.RootCAs = client.RootCAs
		tr := New(conf)
		t.Cleanup(func() { _ = tr.Close() })
		return tr, "quic://127.0.0.1:0"
	}, transporttest.Caps{ByteStream: true})
}
