package interop

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine behind.
// go-zeromq/zmq4 sockets are closed by the tests that use them; see
// zmq4_test.go for the goroutines of its own that it does not wait for.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, zmq4LeakOptions()...)
}
