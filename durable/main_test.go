package durable

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain runs the child-process roles used by the crash and lock tests
// (selected by environment variable) and otherwise the tests under goleak.
func TestMain(m *testing.M) {
	if role := os.Getenv(childEnv); role != "" {
		os.Exit(runChild(role))
	}
	goleak.VerifyTestMain(m)
}
