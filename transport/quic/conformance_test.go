package quic

import (
	"testing"

	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/transporttest"
)

func TestConformance(t *testing.T) {
	server, client := certs(t)
	transporttest.Run(t, func(t *testing.T) (transport.Transport, string) {
		// One Transport for both roles: it needs the certificate to
		// listen and the roots to dial.
		conf := server.Clone()
		conf.RootCAs = client.RootCAs
		tr := New(conf)
		t.Cleanup(func() { _ = tr.Close() })
		return tr, "quic://127.0.0.1:0"
	}, transporttest.Caps{ByteStream: true, CloseDiscards: true})
}
