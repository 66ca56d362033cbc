package main

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The example checks every task comes back exactly once; run it small
// over each transport.
func TestPipeline(t *testing.T) {
	for _, ep := range []string{"tcp://127.0.0.1:0", "ipc://" + filepath.Join(t.TempDir(), "pp"), "inproc://example-pipeline"} {
		require.NoError(t, run(ep, 3, 3000, 64), ep)
	}
	require.Error(t, run("tcp://127.0.0.1:0", 0, 10, 64))
}
