// Command mqbench measures messaging throughput and latency: brook's, and
// the same workloads on libzmq, go-zeromq/zmq4 and a bare Go TCP loop.
//
//	mqbench thr --pattern pushpull --transport tcp --size 64,1024 --count 1000000
//	mqbench lat --pattern reqrep --transport tcp --count 50000
//	mqbench lat --pattern dealerrouter --rate 20000 --duration 5s   # open loop
//	mqbench compare --mode thr --pattern pushpull --size 64 --duration 2s
//	mqbench thr --role local --endpoint tcp://0.0.0.0:5555          # two processes
//	mqbench thr --role remote --endpoint tcp://server:5555
//
// libzmq support needs cgo and libzmq3-dev: go build -tags libzmq.
// Run mqbench -h for every flag.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/brookmq/brook/cmd/mqbench/internal/cli"
	"golang.org/x/term"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.IO{
		Stdout:           os.Stdout,
		Stderr:           os.Stderr,
		StdoutIsTerminal: term.IsTerminal(int(os.Stdout.Fd())),
	})
	stop()
	os.Exit(code)
}
