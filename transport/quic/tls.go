package quic

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"
)

// ALPN is the application protocol the profile negotiates; a Transport
// offers and accepts nothing else.
const ALPN = "omq-zmtp/1"

// ErrInsecureTLS means a tls.Config asked to skip certificate verification,
// which the profile never allows.
var ErrInsecureTLS = errors.New("brook: quic: InsecureSkipVerify is not allowed; configure RootCAs instead")

// ErrNoTLSConfig means New was given a nil tls.Config.
var ErrNoTLSConfig = errors.New("brook: quic: a tls.Config is required")

// clientTLS returns the config a connector uses: a clone of base with TLS
// 1.3, the profile's ALPN, and serverName if set.
func clientTLS(base *tls.Config, serverName string) (*tls.Config, error) {
	if base == nil {
		return nil, ErrNoTLSConfig
	}
	if base.InsecureSkipVerify {
		return nil, ErrInsecureTLS
	}
	c := base.Clone()
	c.MinVersion = tls.VersionTLS13
	c.MaxVersion = 0
	c.NextProtos = []string{ALPN}
	if serverName != "" {
		c.ServerName = serverName
	}
	return c, nil
}

// serverTLS returns the config a listener uses: a clone of base with TLS
// 1.3 and the profile's ALPN. It needs a certificate.
func serverTLS(base *tls.Config) (*tls.Config, error) {
	if base == nil {
		return nil, ErrNoTLSConfig
	}
	if len(base.Certificates) == 0 && base.GetCertificate == nil && base.GetConfigForClient == nil {
		return nil, errors.New("brook: quic: a listener's tls.Config needs Certificates or GetCertificate")
	}
	c := base.Clone()
	c.MinVersion = tls.VersionTLS13
	c.MaxVersion = 0
	c.NextProtos = []string{ALPN}
	return c, nil
}

// SelfSigned makes a self-signed ECDSA P-256 certificate valid for hosts
// (DNS names or IP addresses; "localhost", 127.0.0.1 and ::1 when none are
// given) for one year, and returns a server config presenting it and a
// client config that trusts exactly it. It is meant for tests and quick
// starts; production listeners should use a certificate from a real CA.
func SelfSigned(hosts ...string) (server *tls.Config, client *tls.Config, err error) {
	if len(hosts) == 0 {
		hosts = []string{"localhost", "127.0.0.1", "::1"}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("brook: quic: self-signed key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, nil, fmt.Errorf("brook: quic: self-signed serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: hosts[0], Organization: []string{"brook self-signed"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("brook: quic: self-signed certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("brook: quic: self-signed certificate: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}},
		MinVersion:   tls.VersionTLS13,
		NextProtos:   []string{ALPN},
	}
	client = &tls.Config{
		RootCAs:    pool,
		MinVersion: tls.VersionTLS13,
		NextProtos: []string{ALPN},
	}
	return server, client, nil
}
