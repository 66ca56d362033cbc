package metrics_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Programs that do not import package metrics do not link
// client_golang: none of brook's other packages and commands depends on
// it. The go command is part of the toolchain the tests run with.
func TestOtherPackagesDoNotLinkClientGolang(t *testing.T) {
	gobin, err := exec.LookPath("go")
	require.NoError(t, err, "the go command is needed to list dependencies")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pkgs := []string{
		"github.com/brookmq/brook/socket",
		"github.com/brookmq/brook/durable",
		"github.com/brookmq/brook/cmd/mqbench",
		"github.com/brookmq/brook/cmd/brookcat",
		"github.com/brookmq/brook/examples/pipeline",
		"github.com/brookmq/brook/examples/inproc",
	}
	out, err := exec.CommandContext(ctx, gobin, append([]string{"list", "-deps"}, pkgs...)...).CombinedOutput()
	require.NoError(t, err, "%s", out)
	deps := string(out)
	require.Contains(t, deps, "github.com/brookmq/brook/socket\n", "the listing is real")
	assert.NotContains(t, deps, "github.com/prometheus/")

	// And package metrics itself does.
	out, err = exec.CommandContext(ctx, gobin, "list", "-deps", "github.com/brookmq/brook/metrics").CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.True(t, strings.Contains(string(out), "github.com/prometheus/client_golang/prometheus\n"))
}
