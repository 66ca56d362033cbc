package cli_test

import (
	"context"
	"os"
	"testing"

	"github.com/brookmq/brook/cmd/mqbench/internal/cli"
	"go.uber.org/goleak"
)

// runMainEnv makes the test binary act as mqbench itself, so the
// two-process tests can start it again as the other side.
const runMainEnv = "MQBENCH_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		os.Exit(cli.Main(context.Background(), os.Args[1:], cli.IO{Stdout: os.Stdout, Stderr: os.Stderr}))
	}
	// go-zeromq/zmq4 leaves goroutines behind after Close: its PUB
	// writer, and its connection readers on inproc (bugs of that library,
	// not of mqbench).
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("github.com/go-zeromq/zmq4.(*pubMWriter).run"),
		goleak.IgnoreAnyFunction("github.com/go-zeromq/zmq4.(*Conn).read"),
		goleak.IgnoreAnyFunction("github.com/go-zeromq/zmq4/internal/inproc.(*conn).read"))
}
