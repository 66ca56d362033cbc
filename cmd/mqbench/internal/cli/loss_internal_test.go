package cli

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/brookmq/brook/cmd/mqbench/internal/impl"
	"github.com/brookmq/brook/cmd/mqbench/internal/workload"
	"github.com/stretchr/testify/assert"
)

func TestLossCode(t *testing.T) {
	var buf bytes.Buffer
	assert.Equal(t, ExitOK, lossCode(&buf, []workload.Result{{Pattern: "pushpull"}}))
	assert.Empty(t, buf.String())

	assert.Equal(t, ExitOK, lossCode(&buf, []workload.Result{{Pattern: "pubsub", Lost: 5, Impl: "brook", Size: 64}}))
	assert.Contains(t, buf.String(), "PUB drops at its high-water mark by design")

	buf.Reset()
	assert.Equal(t, ExitLoss, lossCode(&buf, []workload.Result{{Pattern: "reqrep", Lost: 2, Impl: "zmq4", Size: 64}}))
	assert.Contains(t, buf.String(), "unexpected loss: zmq4 reqrep 64 B: 2 lost")
}

func TestExitCode(t *testing.T) {
	var buf bytes.Buffer
	assert.Equal(t, ExitOK, exitCode(&buf, nil))
	assert.Empty(t, buf.String())
	assert.Equal(t, ExitUsage, exitCode(&buf, fmt.Errorf("wrapped: %w", impl.ErrNotReady)))
	assert.Contains(t, buf.String(), "error: wrapped: brook: mqbench: socket type not available in this library version")
	assert.Equal(t, ExitUsage, exitCode(&buf, impl.ErrUnsupported))
	assert.Equal(t, ExitError, exitCode(&buf, errors.New("boom")))
}
