package config_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/cmd/mqbench/internal/config"
)

func TestParseQUICFiles(t *testing.T) {
	dir := t.TempDir()
	cert, key, ca := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem"), filepath.Join(dir, "ca.pem")
	for _, f := range []string{cert, key, ca} {
		require.NoError(t, os.WriteFile(f, []byte("x"), 0o600))
	}
	c, err := config.Parse([]string{"thr", "--transport", "quic"})
	require.NoError(t, err)
	assert.True(t, c.QUIC.SelfSigned(), "--role both makes its own certificate")

	c, err = config.Parse([]string{"thr", "--role", "local", "--endpoint", "quic://0.0.0.0:5555", "--quic-cert", cert, "--quic-key", key})
	require.NoError(t, err)
	assert.Equal(t, config.QUIC{Cert: cert, Key: key}, c.QUIC)
	c, err = config.Parse([]string{"thr", "--role", "remote", "--endpoint", "quic://h:5555", "--quic-ca", ca})
	require.NoError(t, err)
	assert.Equal(t, config.QUIC{CA: ca}, c.QUIC)
	c, err = config.Parse([]string{"thr", "--role", "remote", "--endpoint", "quic://h:5555", "--quic-cert", cert, "--quic-key", key})
	require.NoError(t, err, "a remote side without --quic-ca trusts the system roots")
	assert.False(t, c.QUIC.SelfSigned())

	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"local without files":  {[]string{"thr", "--transport", "quic", "--role", "local"}, "cannot share a self-signed certificate"},
		"remote without files": {[]string{"thr", "--role", "remote", "--endpoint", "quic://h:1"}, "cannot share a self-signed certificate"},
		"local with a CA only": {[]string{"thr", "--transport", "quic", "--role", "local", "--quic-ca", ca}, "needs --quic-cert and --quic-key"},
		"cert without key":     {[]string{"thr", "--transport", "quic", "--role", "local", "--quic-cert", cert}, "go together"},
		"files on tcp":         {[]string{"thr", "--quic-ca", ca}, "apply to --transport quic only"},
		"missing file":         {[]string{"thr", "--transport", "quic", "--role", "local", "--quic-cert", cert, "--quic-key", filepath.Join(dir, "none")}, "--quic-key"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := config.Parse(tc.args)
			require.ErrorIs(t, err, config.ErrUsage)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
