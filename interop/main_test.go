package interop

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine behind:
// brook's, go-zeromq/zmq4's (see newZmq4) or the helpers' own (process
// waiters, event recorders).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
