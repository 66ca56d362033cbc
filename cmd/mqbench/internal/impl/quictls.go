package impl

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"sync"

	"github.com/brookmq/brook/cmd/mqbench/internal/config"
	"github.com/brookmq/brook/transport/quic"
)

// quicTLS makes the TLS configuration of an implementation's quic://
// sockets: from the files given (two-process runs), or from a self-signed
// certificate made once per Impl, which every socket of the process both
// presents and trusts (--role both).
type quicTLS struct {
	selfSigned func() (*tls.Config, error)
}

func newQUICTLS() quicTLS {
	return quicTLS{selfSigned: sync.OnceValues(selfSigned)}
}

// selfSigned returns one TLS config that both presents a fresh
// self-signed certificate for the loopback addresses and trusts exactly
// it, so a process's listeners and connectors agree.
func selfSigned() (*tls.Config, error) {
	server, client, err := quic.SelfSigned()
	if err != nil {
		return nil, err
	}
	c := server.Clone()
	c.RootCAs = client.RootCAs
	return c, nil
}

// config returns a TLS configuration carrying the certificate to present
// (when files names one, or when self-signed) and the roots to trust (the
// CA file, the system roots when files names none, or the self-signed
// certificate). The caller may modify it.
func (q quicTLS) config(files config.QUIC) (*tls.Config, error) {
	if files.SelfSigned() {
		c, err := q.selfSigned()
		if err != nil {
			return nil, fmt.Errorf("quic: self-signed certificate: %w", err)
		}
		return c.Clone(), nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS13}
	if files.Cert != "" {
		cert, err := tls.LoadX509KeyPair(files.Cert, files.Key)
		if err != nil {
			return nil, fmt.Errorf("quic: --quic-cert %s and --quic-key %s: %w", files.Cert, files.Key, err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	if files.CA != "" {
		pem, err := os.ReadFile(files.CA)
		if err != nil {
			return nil, fmt.Errorf("quic: --quic-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("quic: --quic-ca %s holds no PEM certificate", files.CA)
		}
		c.RootCAs = pool
	}
	return c, nil
}
