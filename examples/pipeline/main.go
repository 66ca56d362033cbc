// Command pipeline is ZeroMQ's fan-out/fan-in pipeline across processes:
// a ventilator PUSHes numbered tasks to worker processes, which PUSH
// results to a sink. Midway it kills workers with SIGKILL and restarts
// them, then reports what the sink got and what was lost.
//
// PUSH/PULL is at-most-once, as in libzmq: tasks a worker had taken
// (in its queues, in its socket buffers, being worked on, or as unsent
// results) die with it, and tasks the ventilator still had queued for
// it are dropped and counted (peer-gone). Nothing is lost silently: the
// tasks are numbered, so the sink knows exactly which are missing, and the
// example resends them (an application-level retry, which makes the
// pipeline at-least-once; the sink drops duplicates by task number).
//
//	go run ./examples/pipeline                          # 3 workers, 20000 tasks, 2 kills
//	go run ./examples/pipeline -workers 4 -kills 3 -transport ipc
//	go run ./examples/pipeline -resend 0                # only count the loss
//
// The workers are this same program, started as
//
//	pipeline worker -from ENDPOINT -to ENDPOINT [-label NAME] [-hwm N]
//
// which also runs by hand against another coordinator's endpoints.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(mainCode(os.Args[1:], os.Stdout, os.Stderr, spawner{}))
}

// mainCode runs the coordinator, or a worker when args start with
// "worker", and returns the exit code.
func mainCode(args []string, stdout, stderr io.Writer, sp spawner) int {
	if len(args) > 0 && args[0] == "worker" {
		if err := workerMain(args[1:]); err != nil {
			fmt.Fprintf(stderr, "pipeline worker: %v\n", err)
			return 1
		}
		return 0
	}
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return 2
	}
	if sp.exe == "" {
		if sp.exe, err = os.Executable(); err != nil {
			fmt.Fprintf(stderr, "pipeline: %v\n", err)
			return 1
		}
	}
	cfg.spawn = sp
	if err := run(stdout, stderr, cfg); err != nil {
		fmt.Fprintf(stderr, "pipeline: %v\n", err)
		return 1
	}
	return 0
}
