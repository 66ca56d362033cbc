package inproc

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Dials that give up leave no waiter behind, so dialling many names that
// are never bound does not grow the namespace.
func TestWaitersAreReleased(t *testing.T) {
	ns := NewNamespace()
	ctx, cancel := context.WithCancel(context.Background())
	errs := make(chan error, 3)
	for range 3 {
		go func() {
			_, err := ns.dial(ctx, "never")
			errs <- err
		}()
	}
	cancel()
	for range 3 {
		require.Error(t, <-errs)
	}
	assert.Zero(t, waiters(ns))

	done, cancel2 := context.WithCancel(context.Background())
	cancel2()
	_, err := ns.dial(done, "never")
	require.Error(t, err)
	assert.Zero(t, waiters(ns), "a non-blocking dial registers no waiter")
}

func waiters(ns *Namespace) int {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	return len(ns.waiting)
}
