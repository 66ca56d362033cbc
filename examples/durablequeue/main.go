// Command durablequeue is a work queue that loses nothing: a producer
// process with a journaled PUSH and worker processes with PULLs that
// acknowledge each message after processing it, while the example itself
// SIGKILLs the producer and the workers at random moments and starts them
// again. At the end it proves, from what the processes printed, that
// every message whose Send succeeded was processed and acknowledged, and
// counts every message the application saw twice, by cause.
//
//	go run ./examples/durablequeue                                   # 20000 messages, 2 workers, 2+3 kills
//	go run ./examples/durablequeue -n 50000 -workers 3 -producer-kills 4 -worker-kills 6
//	go run ./examples/durablequeue -seed 42                          # repeat a run's kill points
//
// The producer (socket.WithJournalDir, Group sync) journals each message
// before it counts as sent: it sends windows of messages with SendAsync
// and reports a window once Pending.Wait says its last message is on disk.
// A killed producer's successor opens the same journal, delivers again
// everything no worker acknowledged, and sends the rest. Each worker keeps
// a dedup store (socket.WithDedupStore) that survives its restarts, so a
// message it acknowledged is never passed to its application again.
//
// The processes are this same program, started as
//
//	durablequeue producer -journal DIR -endpoint EP -incarnation K -n N [-window W] [-rate R] [-segment BYTES] [-inflight N]
//	durablequeue worker -endpoint EP -dedup DIR -slot S [-concurrency C]
//
// and talk to the coordinator in lines on their standard output.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/brookmq/brook/examples/internal/childproc"
)

func main() {
	os.Exit(mainCode(os.Args[1:], os.Stdout, os.Stderr, childproc.Spawner{}))
}

// mainCode runs the coordinator, or a producer or worker when args start
// with its role, and returns the exit code: 0 when nothing was lost and
// no acknowledged message reached the same worker twice, 1 otherwise or
// on an error, 2 for bad flags.
func mainCode(args []string, stdout, stderr io.Writer, sp childproc.Spawner) int {
	if len(args) > 0 {
		var role func([]string, io.Writer) error
		switch args[0] {
		case "producer":
			role = producerMain
		case "worker":
			role = workerMain
		}
		if role != nil {
			if err := role(args[1:], stdout); err != nil {
				fmt.Fprintf(stderr, "durablequeue %s: %v\n", args[0], err)
				return 1
			}
			return 0
		}
	}
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return 2
	}
	if sp.Exe == "" {
		if sp.Exe, err = os.Executable(); err != nil {
			fmt.Fprintf(stderr, "durablequeue: %v\n", err)
			return 1
		}
	}
	cfg.spawn = sp
	ok, err := run(stdout, stderr, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "durablequeue: %v\n", err)
		return 1
	}
	if !ok {
		return 1
	}
	return 0
}
