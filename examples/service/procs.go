package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
)

// spawner starts instance processes: exe with "instance" and its flags.
// The tests set exe to the test binary and env to what makes it act as
// this program.
type spawner struct {
	exe string
	env []string
}

// event is one line an instance printed: instance=I pid=P event=E k=v ...
type event struct {
	proc   *proc
	kind   string
	fields map[string]string
}

// num returns a numeric field (0 if absent).
func (e event) num(key string) int {
	n, _ := strconv.Atoi(e.fields[key])
	return n
}

// proc is one instance process, one incarnation of an instance.
type proc struct {
	idx, incarnation int
	cmd              *exec.Cmd
	done             chan struct{} // closed once its output is read and Wait returned
	err              error         // Wait's error, once done is closed
	// Filled from its lines by the demo's goroutine.
	ready, last, stopped *event
	// exited is set by the demo's goroutine on the "exit" event, sent
	// after Wait returned (so err is set).
	exited bool
	// killed: the demo SIGKILLed it; asked: the demo signalled it.
	killed, asked bool
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) name() string { return fmt.Sprintf("%d#%d", p.idx, p.incarnation) }

// start runs an instance and forwards its lines to events until its
// stdout ends.
func (sp spawner) start(idx, incarnation int, events chan<- event, stderr io.Writer, args ...string) (*proc, error) {
	cmd := exec.Command(sp.exe, append([]string{"instance"}, args...)...)
	cmd.Env = append(os.Environ(), sp.env...)
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start instance %d: %w", idx, err)
	}
	p := &proc{idx: idx, incarnation: incarnation, cmd: cmd, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if e, ok := parseLine(p, sc.Text()); ok {
				events <- e
			}
		}
		p.err = cmd.Wait()
		events <- event{proc: p, kind: "exit"}
	}()
	return p, nil
}

// parseLine reads "k=v k=v ..." with an event key.
func parseLine(p *proc, line string) (event, bool) {
	e := event{proc: p, fields: map[string]string{}}
	for _, kv := range strings.Fields(line) {
		if k, v, ok := strings.Cut(kv, "="); ok {
			e.fields[k] = v
		}
	}
	e.kind = e.fields["event"]
	return e, e.kind != ""
}

// signal sends sig unless the process has already ended.
func (p *proc) signal(sig syscall.Signal) error {
	p.asked = true
	if p.exited {
		return nil
	}
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	return nil
}
