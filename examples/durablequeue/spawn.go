package main

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

// spawner starts the producer and worker processes: exe with a role and
// its flags. The tests set exe to the test binary and env to what makes
// it act as this program.
type spawner struct {
	exe string
	env []string
}

// process is one running producer or worker. Its stdout lines arrive as
// events, then one event with eof set once it exited and all its output
// was read.
type process struct {
	label  string
	cmd    *exec.Cmd
	killed bool  // SIGKILLed on purpose
	err    error // Wait's error, set before the eof event
}

// event is a line a process printed, or its end.
type event struct {
	from *process
	line string
	eof  bool
}

func (sp spawner) start(label string, events chan<- event, stderr io.Writer, args ...string) (*process, error) {
	cmd := exec.Command(sp.exe, args...)
	cmd.Env = append(os.Environ(), sp.env...)
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", label, err)
	}
	p := &process{label: label, cmd: cmd}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			events <- event{from: p, line: sc.Text()}
		}
		p.err = cmd.Wait()
		events <- event{from: p, eof: true}
	}()
	return p, nil
}

func (p *process) pid() int { return p.cmd.Process.Pid }

// kill sends SIGKILL; the eof event follows once the process is gone.
func (p *process) kill() {
	p.killed = true
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
}

// dump asks the process for a goroutine dump on its stderr (SIGQUIT),
// which also ends it.
func (p *process) dump() {
	p.killed = true
	_ = p.cmd.Process.Signal(syscall.SIGQUIT)
}

// terminate asks the process to finish (SIGTERM).
func (p *process) terminate() error {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	return nil
}

// lockedWriter serialises the processes' stderr copiers.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
