package workload_test

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// go-zeromq/zmq4's PUB leaves its writer goroutine behind after
	// Close (a bug of that library, not of mqbench).
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/go-zeromq/zmq4.(*pubMWriter).run"))
}
