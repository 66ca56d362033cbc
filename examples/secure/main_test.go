package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The example serves its client, refuses the stranger, and checks both
// itself; run it over tcp and ipc, and a second time on the same
// certificate directory (certificates are reused, not remade).
func TestSecure(t *testing.T) {
	certs := t.TempDir()
	for _, ep := range []string{"tcp://127.0.0.1:0", "ipc://" + filepath.Join(t.TempDir(), "s"), "tcp://127.0.0.1:0"} {
		var out bytes.Buffer
		require.NoError(t, run(&out, ep, certs, 3), ep)
		assert.Equal(t, 3, strings.Count(out.String(), "client got"), out.String())
		assert.Contains(t, out.String(), "server refused the stranger")
	}
	require.Error(t, run(&bytes.Buffer{}, "tcp://127.0.0.1:0", "", 0))
}
