// Package childproc starts the processes of the examples that run
// themselves as several processes (durablequeue, replay): each child is
// the example's own binary with a role and its flags, its stdout lines
// come back as events on one channel, and the coordinator kills,
// terminates or dumps them at will. LockedWriter and EndedBeforeHandler
// serve the other multi-process examples (pipeline, service) too.
package childproc

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
)

// Spawner starts child processes: Exe with a role and its flags, with Env
// added to this process's environment. Tests set Exe to the test binary
// and Env to what makes it act as the example; the zero Spawner runs
// nothing useful and is replaced by the example's main.
type Spawner struct {
	Exe string
	Env []string
}

// Process is one running child. Its stdout lines arrive as events, then
// one event with EOF set once it exited and all its output was read.
type Process struct {
	Label      string
	Killed     bool  // SIGKILLed or SIGQUIT on purpose
	Terminated bool  // sent SIGTERM by Terminate
	Err        error // Wait's error, set before the EOF event
	cmd        *exec.Cmd
}

// Event is a line a process printed, or its end.
type Event struct {
	From *Process
	Line string
	EOF  bool
}

// Start runs the child labelled label with args, its stderr to stderr,
// and sends its stdout lines and then its end to events.
func (sp Spawner) Start(label string, events chan<- Event, stderr io.Writer, args ...string) (*Process, error) {
	cmd := exec.Command(sp.Exe, args...)
	cmd.Env = append(os.Environ(), sp.Env...)
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", label, err)
	}
	p := &Process{Label: label, cmd: cmd}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			events <- Event{From: p, Line: sc.Text()}
		}
		p.Err = cmd.Wait()
		events <- Event{From: p, EOF: true}
	}()
	return p, nil
}

// PID is the child's process id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Kill sends SIGKILL; the EOF event follows once the process is gone.
func (p *Process) Kill() {
	p.Killed = true
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
}

// Dump asks the process for a goroutine dump on its stderr (SIGQUIT),
// which also ends it.
func (p *Process) Dump() {
	p.Killed = true
	_ = p.cmd.Process.Signal(syscall.SIGQUIT)
}

// Terminate asks the process to finish (SIGTERM).
func (p *Process) Terminate() error {
	p.Terminated = true
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	return nil
}

// Clean reports whether the process, once ended, exited cleanly: without
// error, or ended by Terminate's SIGTERM before it could catch it (see
// EndedBeforeHandler).
func (p *Process) Clean() bool {
	return p.Err == nil || (p.Terminated && EndedBeforeHandler(p.Err))
}

// EndedBeforeHandler reports whether err, a child's Wait error, says the
// child was ended by SIGTERM itself. The examples' children catch SIGTERM
// (signal.NotifyContext) before they open a socket or a journal, so one
// that SIGTERM ended was still starting and had done nothing: a child
// restarted just before the run ends, on a busy machine.
func EndedBeforeHandler(err error) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGTERM
}

// LockedWriter serialises writes to W, for several children's stderr
// copiers sharing one writer.
type LockedWriter struct {
	mu sync.Mutex
	W  io.Writer
}

// Write writes p to W under the lock.
func (l *LockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.W.Write(p)
}
