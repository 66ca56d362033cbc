package main

import (
	"errors"
	"fmt"
	"github.com/brookmq/brook/examples/internal/childproc"
	"io"
	"os"
	"os/exec"
	"syscall"
)

// spawner starts worker processes: exe with "worker" and its flags. The
// tests set exe to the test binary and env to what makes it act as this
// program.
type spawner struct {
	exe string
	env []string
}

// process is one running worker.
type process struct {
	label string
	cmd   *exec.Cmd
	done  chan struct{} // closed when Wait returned
	err   error         // Wait's error, once done is closed
}

func (sp spawner) start(label string, stderr io.Writer, args ...string) (*process, error) {
	cmd := exec.Command(sp.exe, append([]string{"worker", "-label", label}, args...)...)
	cmd.Env = append(os.Environ(), sp.env...)
	cmd.Stdout = stderr // a worker prints nothing but its errors
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start worker %s: %w", label, err)
	}
	p := &process{label: label, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *process) pid() int { return p.cmd.Process.Pid }

// kill sends SIGKILL and waits until the process is gone.
func (p *process) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// stop asks the worker to finish (SIGTERM: it stops taking tasks and
// delivers the results it has, within its linger) and waits for it.
func (p *process) stop() error {
	select {
	case <-p.done:
		return fmt.Errorf("worker %s had already exited: %v", p.label, p.err)
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	<-p.done
	if p.err != nil && !childproc.EndedBeforeHandler(p.err) {
		return fmt.Errorf("worker %s: %w", p.label, p.err)
	}
	return nil
}
