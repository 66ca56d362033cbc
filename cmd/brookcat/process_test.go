package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/brookmq/brook/socket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// proc is a brookcat process: the test binary re-executed as brookcat.
type proc struct {
	t         *testing.T
	cmd       *exec.Cmd
	stdout    syncBuffer
	stderr    syncBuffer
	listening chan string // each "listening on" endpoint
	done      chan struct{}
	err       error
}

// startCat starts brookcat with args; stdin may be nil (empty input).
// Its stdout is collected unless stdout is set before (see pipeCats).
func startCat(t *testing.T, stdin io.Reader, stdout io.Writer, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	p := &proc{t: t, cmd: cmd, listening: make(chan string, 8), done: make(chan struct{})}
	cmd.Stdin = stdin
	cmd.Stdout = &p.stdout
	if stdout != nil {
		cmd.Stdout = stdout
	}
	errPipe, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(errPipe)
		for sc.Scan() {
			line := sc.Text()
			p.stderr.Write([]byte(line + "\n"))
			if ep, ok := strings.CutPrefix(line, "brookcat: listening on "); ok {
				p.listening <- ep
			}
		}
		p.err = cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	return p
}

// endpoint waits for the process to say where it listens.
func (p *proc) endpoint() string {
	p.t.Helper()
	select {
	case ep := <-p.listening:
		return ep
	case <-p.done:
		p.t.Fatalf("brookcat exited before listening: %v\n%s", p.err, p.stderr.String())
	case <-time.After(time.Minute):
		p.t.Fatalf("brookcat is not listening after a minute\n%s", p.stderr.String())
	}
	return ""
}

// wait waits for the process and returns its exit code.
func (p *proc) wait() int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(time.Minute):
		p.t.Fatalf("brookcat still runs after a minute\n%s", p.stderr.String())
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	require.NoError(p.t, p.err)
	return 0
}

// Lines piped through two brookcat processes, as in a shell:
//
//	printf ... | brookcat PUSH A        (sender)
//	brookcat -n 3 PULL @A | brookcat PUSH B   (a relay: one's stdout is the other's stdin)
//
// and a brook PULL socket at B gets every line, in order.
func TestPipeThroughProcesses(t *testing.T) {
	dir := t.TempDir()
	epB := "ipc://" + filepath.Join(dir, "b")
	sink, err := socket.New(socket.Pull)
	require.NoError(t, err)
	defer sink.Close()
	require.NoError(t, sink.Bind(epB))

	r, w, err := os.Pipe()
	require.NoError(t, err)
	relayIn := startCat(t, nil, w, "-n", "3", "PULL", "@tcp://127.0.0.1:0")
	relayOut := startCat(t, r, nil, "PUSH", epB)
	w.Close() // the processes hold their own ends now
	r.Close()
	epA := relayIn.endpoint()
	sender := startCat(t, strings.NewReader("alpha\tfirst\nbeta\ngamma\n"), nil, "PUSH", epA)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var got []string
	for range 3 {
		m, err := sink.Recv(ctx)
		require.NoError(t, err)
		var fs []string
		for _, f := range m.Frames {
			fs = append(fs, string(f))
		}
		got = append(got, strings.Join(fs, "|"))
	}
	assert.Equal(t, []string{"alpha|first", "beta", "gamma"}, got)
	assert.Equal(t, 0, sender.wait(), sender.stderr.String())
	assert.Equal(t, 0, relayIn.wait(), relayIn.stderr.String())
	assert.Equal(t, 0, relayOut.wait(), "the relay's input ended with the first process: %s", relayOut.stderr.String())
}

// Request/reply between two processes over tcp, with JSON output.
func TestReqRepProcesses(t *testing.T) {
	rep := startCat(t, nil, nil, "-echo", "-n", "2", "REP", "@tcp://127.0.0.1:0")
	req := startCat(t, strings.NewReader(`["a","b"]`+"\n"+`{"frames":[{"hex":"00"}]}`), nil, "-in", "json", "-out", "json", "REQ", rep.endpoint())
	assert.Equal(t, 0, req.wait(), req.stderr.String())
	assert.Equal(t, `{"frames":["a","b"]}`+"\n"+`{"frames":["\u0000"]}`+"\n", req.stdout.String())
	assert.Equal(t, 0, rep.wait(), rep.stderr.String())
}

// A signal ends a receiver cleanly; exit code 3 when -n was not reached.
func TestSignals(t *testing.T) {
	p := startCat(t, nil, nil, "SUB", "@tcp://127.0.0.1:0")
	p.endpoint()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	assert.Equal(t, 0, p.wait(), p.stderr.String())

	p = startCat(t, nil, nil, "-n", "2", "PULL", "@tcp://127.0.0.1:0")
	p.endpoint()
	require.NoError(t, p.cmd.Process.Signal(os.Interrupt))
	assert.Equal(t, 3, p.wait())
	assert.Contains(t, p.stderr.String(), "interrupted after 0 of 2 messages")
}
