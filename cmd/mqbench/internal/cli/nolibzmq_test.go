//go:build !libzmq

package cli_test

import (
	"testing"

	"github.com/brookmq/brook/cmd/mqbench/internal/cli"
	"github.com/stretchr/testify/assert"
)

func TestLibzmqNotBuilt(t *testing.T) {
	code, _, errOut := mqbench(t, false, "thr", "--impl", "libzmq")
	assert.Equal(t, cli.ExitUsage, code)
	assert.Contains(t, errOut, "libzmq support is not compiled in")
	assert.Contains(t, errOut, "-tags libzmq")

	code, _, errOut = mqbench(t, false, "compare", "--impls", "brook,libzmq")
	assert.Equal(t, cli.ExitUsage, code)
	assert.Contains(t, errOut, "-tags libzmq")
}
