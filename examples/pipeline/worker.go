package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/brookmq/brook/socket"
)

// workerMain is one worker process: it PULLs tasks from the ventilator
// and PUSHes one result per task to the sink, [label, task, digest],
// until SIGTERM or SIGINT. Then it stops taking tasks and closes its
// sockets: what it already received but not yet read is dropped (and
// counted), results it has queued are delivered within the linger.
func workerMain(args []string) error {
	fs := flag.NewFlagSet("pipeline worker", flag.ContinueOnError)
	from := fs.String("from", "", "ventilator endpoint to PULL tasks from")
	to := fs.String("to", "", "sink endpoint to PUSH results to")
	label := fs.String("label", fmt.Sprintf("pid%d", os.Getpid()), "name sent with each result")
	hwm := fs.Int("hwm", socket.DefaultHWM, "inbound high-water mark")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *from == "" || *to == "" {
		return errors.New("need -from and -to")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	out, err := socket.New(socket.Push)
	if err != nil {
		return err
	}
	defer out.Close() // runs last: results already made are delivered within the linger
	in, err := socket.New(socket.Pull, socket.WithRecvHWM(*hwm))
	if err != nil {
		return err
	}
	defer in.Close() // runs first: stop taking tasks
	if err := out.Connect(*to); err != nil {
		return err
	}
	if err := in.Connect(*from); err != nil {
		return err
	}
	name := []byte(*label)
	for {
		m, err := in.Recv(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		task := m.Frames[0]
		digest := sha256.Sum256(task)
		if err := out.Send(ctx, socket.NewMsg(name, task, digest[:8])); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
}
