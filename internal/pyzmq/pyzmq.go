// Package pyzmq runs libzmq peers for interoperability tests: small Python
// scripts using pyzmq, started with the distribution's interpreter
// (/usr/bin/python3, which has the python3-zmq package; the python3 first
// on PATH may not).
//
// A script talks to the test through its standard streams, one line at a
// time: it prints what it bound or received, and may read commands from
// stdin. Every process is killed and reaped when the test ends.
//
// When pyzmq is missing, Require skips the test with a message saying how
// to install it, except under CI (CI set to anything), where the test fails: an
// interop suite that silently skips proves nothing.
package pyzmq

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// Python is the interpreter that has pyzmq.
const Python = "/usr/bin/python3"

// DefaultTimeout bounds how long Line waits when given no timeout.
const DefaultTimeout = 10 * time.Second

// Available reports whether Python can import zmq, and the libzmq version
// it uses ("4.3.4"), or why not.
func Available() (version string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, Python, "-c", "import zmq; print(zmq.zmq_version())").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s cannot import zmq: %v: %s", Python, err, bytes.TrimSpace(out))
	}
	return strings.TrimSpace(string(out)), nil
}

// Require makes t depend on pyzmq: it returns the libzmq version when
// pyzmq is there; otherwise it fails t when CI is set and skips it elsewhere.
func Require(t testing.TB) string {
	t.Helper()
	v, err := Available()
	if err == nil {
		return v
	}
	msg := fmt.Sprintf("libzmq interop needs pyzmq: %v (install with: apt-get install -y libzmq3-dev python3-zmq)", err)
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// Peer is a running Python process. Its methods that fail the test (Line,
// Send, Wait) must be called from the test's goroutine.
type Peer struct {
	t      testing.TB
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string
	stderr *lockedBuffer
	exited chan struct{}
	err    error // from Wait, valid once exited is closed
}

// Start runs Python -c script with args (sys.argv[1:]) and returns the
// running peer. The process is killed and reaped when the test ends.
func Start(t testing.TB, script string, args ...string) *Peer {
	t.Helper()
	cmd := exec.Command(Python, append([]string{"-u", "-c", script}, args...)...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatalf("pyzmq: stdin pipe: %v", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("pyzmq: stdout pipe: %v", err)
	}
	p := &Peer{
		t:      t,
		cmd:    cmd,
		stdin:  stdin,
		lines:  make(chan string, 1024),
		stderr: &lockedBuffer{},
		exited: make(chan struct{}),
	}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("pyzmq: starting %s: %v", Python, err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(p.lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 64<<20)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
	}()
	go func() {
		wg.Wait() // stdout must be drained before Wait closes it
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = stdin.Close()
		for range p.lines {
			// Drain, so the stdout reader can finish.
		}
		<-p.exited
	})
	return p
}

// Line returns the next line the script printed, failing the test if none
// comes within timeout (DefaultTimeout when zero) or the script ends.
func (p *Peer) Line(timeout time.Duration) string {
	p.t.Helper()
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case l, ok := <-p.lines:
		if !ok {
			<-p.exited
			p.t.Fatalf("pyzmq: script ended (%v) before printing a line; stderr:\n%s", p.err, p.stderr.String())
		}
		return l
	case <-timer.C:
		p.t.Fatalf("pyzmq: no line from the script within %v; stderr:\n%s", timeout, p.stderr.String())
	}
	return ""
}

// Send writes one line to the script's stdin.
func (p *Peer) Send(line string) {
	p.t.Helper()
	if _, err := io.WriteString(p.stdin, line+"\n"); err != nil {
		p.t.Fatalf("pyzmq: writing to the script: %v; stderr:\n%s", err, p.stderr.String())
	}
}

// CloseInput closes the script's stdin (it reads EOF).
func (p *Peer) CloseInput() { _ = p.stdin.Close() }

// Wait waits for the script to exit and fails the test if it does not
// within timeout (DefaultTimeout when zero) or exits with an error.
func (p *Peer) Wait(timeout time.Duration) {
	p.t.Helper()
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	select {
	case <-p.exited:
		if p.err != nil {
			p.t.Fatalf("pyzmq: script failed: %v; stderr:\n%s", p.err, p.stderr.String())
		}
	case <-time.After(timeout):
		p.t.Fatalf("pyzmq: script still running after %v; stderr:\n%s", timeout, p.stderr.String())
	}
}

// Stderr returns what the script wrote to stderr so far.
func (p *Peer) Stderr() string { return p.stderr.String() }

// lockedBuffer is a bytes.Buffer safe for the writer goroutine of exec and
// a reading test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
