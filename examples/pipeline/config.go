package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"time"
)

// config is one coordinator run.
type config struct {
	workers, n, kills, hwm, resend int
	rate                           float64
	transport                      string
	quiet, timeout                 time.Duration
	spawn                          spawner
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("pipeline", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&c.workers, "workers", 3, "worker processes")
	fs.IntVar(&c.n, "n", 20000, "tasks")
	fs.IntVar(&c.kills, "kills", 2, "workers killed (SIGKILL) and restarted during the run, spread over it")
	fs.IntVar(&c.hwm, "hwm", 100, "high-water mark of the ventilator's queue per worker and of each worker's inbound queue")
	fs.IntVar(&c.resend, "resend", 3, "rounds of resending missing tasks (0: only report the loss)")
	fs.Float64Var(&c.rate, "rate", 10000, "tasks per second the ventilator sends (0: as fast as the workers take them)")
	fs.StringVar(&c.transport, "transport", "tcp", "tcp or ipc")
	fs.DurationVar(&c.quiet, "quiet", time.Second, "once every task is sent and nothing is queued, results missing after this much silence are counted as lost")
	fs.DurationVar(&c.timeout, "timeout", 5*time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if err := c.validate(); err != nil {
		fmt.Fprintf(stderr, "pipeline: %v\n", err)
		return c, err
	}
	return c, nil
}

func (c *config) validate() error {
	switch {
	case c.workers < 1, c.n < 1, c.kills < 0, c.hwm < 0, c.resend < 0, c.rate < 0:
		return errors.New("need -workers >= 1, -n >= 1 and no negative -kills, -hwm, -resend or -rate")
	case c.transport != "tcp" && c.transport != "ipc":
		return fmt.Errorf("unknown -transport %q: want tcp or ipc", c.transport)
	case c.quiet <= 0 || c.timeout <= 0:
		return errors.New("-quiet and -timeout must be positive")
	}
	return nil
}
