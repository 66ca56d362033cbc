package socket_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/brookmq/brook/socket"
	"github.com/stretchr/testify/require"
)

// Environment of the child process (TestHeartbeatFrozenChild).
const (
	frozenChildEnv = "BROOK_TEST_FROZEN_CHILD" // "connect" or "bind"
	frozenEPEnv    = "BROOK_TEST_FROZEN_EP"    // endpoint to connect to
	// frozenRole is the READY property by which the PUSH tells the child
	// from the live peer.
	frozenRole = "X-Frozen-Test"
)

// TestHeartbeatFrozenChild is the child process of the frozen-peer tests,
// not a test. It is a brook PULL without heartbeats of its own (it
// answers PINGs) that connects to the endpoint given, or binds and prints
// "ep <endpoint>". It prints "up" after its first handshake, "gone" each
// time a connection ends, and "<seq>" for each message received (the
// first 8 bytes, big-endian). When its stdin closes, it takes what is
// still queued and exits.
func TestHeartbeatFrozenChild(t *testing.T) {
	mode := os.Getenv(frozenChildEnv)
	if mode == "" {
		t.Skip("child process of TestHeartbeatDetectsFrozenPeer")
	}
	if err := runFrozenChild(mode, os.Getenv(frozenEPEnv)); err != nil {
		fmt.Fprintln(os.Stderr, "frozen child:", err)
		os.Exit(2)
	}
	os.Exit(0)
}

// lineWriter is stdout shared by the child's goroutines.
type lineWriter struct {
	mu sync.Mutex
	w  *bufio.Writer
}

func (l *lineWriter) print(flush bool, v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintln(l.w, v...)
	if flush {
		_ = l.w.Flush()
	}
}

func (l *lineWriter) flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Flush()
}

func runFrozenChild(mode, ep string) error {
	pull, err := socket.New(socket.Pull, socket.WithLinger(0), socket.WithProperty(frozenRole, []byte("child")))
	if err != nil {
		return err
	}
	defer pull.Close()
	out := &lineWriter{w: bufio.NewWriter(os.Stdout)}
	ev, stop := pull.Monitor()
	defer stop()
	go func() {
		up := false
		for e := range ev {
			switch {
			case e.Type == socket.EventHandshakeSucceeded && !up:
				up = true
				out.print(true, "up")
			case e.Type == socket.EventDisconnected:
				out.print(true, "gone")
			}
		}
	}()
	if mode == "bind" {
		if err := pull.Bind("tcp://127.0.0.1:0"); err != nil {
			return err
		}
		out.print(true, "ep", pull.LastEndpoint())
	} else if err := pull.Connect(ep); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	for {
		// Lines go out whenever nothing more arrives for a moment; once
		// stdin is closed, the first such moment ends the child.
		rctx, rcancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		m, err := pull.Recv(rctx)
		rcancel()
		switch {
		case err == nil:
			out.print(false, binary.BigEndian.Uint64(m.Frames[0]))
		case ctx.Err() != nil:
			return out.flush()
		default:
			if err := out.flush(); err != nil {
				return err
			}
		}
	}
}

// frozenChild is a running child process.
type frozenChild struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	ep    string        // the endpoint it bound ("bind" mode)
	up    chan struct{} // closed when it printed "up"
	gone  chan struct{} // one value per "gone"
	lines chan uint64   // the sequence numbers it received; closed at its exit
}

func startFrozenChild(t *testing.T, mode, ep string) *frozenChild {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHeartbeatFrozenChild$")
	cmd.Env = append(os.Environ(), frozenChildEnv+"="+mode, frozenEPEnv+"="+ep)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	c := &frozenChild{
		cmd: cmd, stdin: stdin,
		up: make(chan struct{}), gone: make(chan struct{}, 64), lines: make(chan uint64, 1024),
	}
	eps := make(chan string, 1)
	go func() {
		defer close(c.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			switch line := sc.Text(); {
			case strings.HasPrefix(line, "ep "):
				eps <- strings.TrimPrefix(line, "ep ")
			case line == "up":
				close(c.up)
			case line == "gone":
				c.gone <- struct{}{}
			default:
				n, err := strconv.ParseUint(line, 10, 64)
				if err != nil {
					fmt.Fprintf(os.Stderr, "frozen child printed %q\n", line)
					return
				}
				c.lines <- n
			}
		}
	}()
	t.Cleanup(func() {
		// Whatever happened: resume, kill and reap it.
		_ = cmd.Process.Signal(syscall.SIGCONT)
		_ = cmd.Process.Kill()
		for range c.lines {
		}
		_ = cmd.Wait()
	})
	if mode == "bind" {
		select {
		case c.ep = <-eps:
		case <-time.After(20 * time.Second):
			t.Fatal("the child printed no endpoint")
		}
	}
	return c
}
