package quiccert_test

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/cmd/mqbench/internal/quiccert"
)

func TestWrite(t *testing.T) {
	files, err := quiccert.Write(t.TempDir(), "bench.test", "127.0.0.1")
	require.NoError(t, err)
	pair, err := tls.LoadX509KeyPair(files.Cert, files.Key)
	require.NoError(t, err, "the files load as a certificate and its key")
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	require.NoError(t, err)
	ca, err := os.ReadFile(files.CA)
	require.NoError(t, err)
	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(ca))
	for _, name := range []string{"bench.test", "127.0.0.1"} {
		_, err = leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: name})
		assert.NoError(t, err, "the CA file verifies the certificate for %s", name)
	}
	_, err = leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: "other.test"})
	assert.Error(t, err)
	st, err := os.Stat(files.Key)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "the key is private")
}
