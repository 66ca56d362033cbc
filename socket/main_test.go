package socket_test

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if role := os.Getenv(childRoleEnv); role != "" {
		// The test binary re-executed as a child process of a kill test.
		os.Exit(runChild(role))
	}
	goleak.VerifyTestMain(m)
}
