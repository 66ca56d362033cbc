package cli

import (
	"bytes"
	"testing"

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
