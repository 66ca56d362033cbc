// Package quiccert writes a self-signed certificate and its key as PEM
// files, the form mqbench's --quic-cert, --quic-key and --quic-ca take, so
// the two sides of a quic:// run can be separate processes.
package quiccert

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/brookmq/brook/cmd/mqbench/internal/config"
	"github.com/brookmq/brook/transport/quic"
)

// Write makes a self-signed certificate for hosts (the loopback names and
// addresses when none are given) and writes it to dir as cert.pem, with
// its key in key.pem (mode 0600). The certificate is its own CA: the
// returned files name cert.pem as CA too.
func Write(dir string, hosts ...string) (config.QUIC, error) {
	server, _, err := quic.SelfSigned(hosts...)
	if err != nil {
		return config.QUIC{}, err
	}
	cert := server.Certificates[0]
	key, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		return config.QUIC{}, fmt.Errorf("quiccert: key: %w", err)
	}
	files := config.QUIC{Cert: filepath.Join(dir, "cert.pem"), Key: filepath.Join(dir, "key.pem")}
	files.CA = files.Cert
	werr := errors.Join(
		os.WriteFile(files.Cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o644),
		os.WriteFile(files.Key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}), 0o600),
	)
	if werr != nil {
		return config.QUIC{}, fmt.Errorf("quiccert: %w", werr)
	}
	return files, nil
}
