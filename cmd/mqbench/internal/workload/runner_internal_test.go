package workload

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The run reports why it ended: an idle end's error wins over the
// cancellations it causes in the other ends, whichever comes first, and
// the run is aborted once.
func TestRunnerFailKeepsTheCause(t *testing.T) {
	aborts := 0
	r := &runner{abort: func() { aborts++ }}
	r.fail(nil)
	assert.Zero(t, aborts)
	r.fail(fmt.Errorf("send: %w", context.Canceled))
	r.fail(ErrIdle)
	r.fail(fmt.Errorf("recv: %w", context.Canceled))
	r.fail(fmt.Errorf("later"))
	require.ErrorIs(t, r.err, ErrIdle)
	assert.Equal(t, 1, aborts)
}
