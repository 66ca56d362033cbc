package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/cmd/mqbench/internal/quiccert"
)

// listeningRE matches the line the local side prints once bound.
var listeningRE = regexp.MustCompile(`mqbench: listening on (\S+)(?: return (\S+))?`)

// child starts this test binary as mqbench with args.
func child(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	return cmd
}

// TestTwoProcesses runs the local and remote roles as two processes on
// loopback, like libzmq's local_thr and remote_thr, and checks each
// side's JSON. quic runs get certificate files: the local side presents
// the certificate, the remote side trusts it.
func TestTwoProcesses(t *testing.T) {
	for _, tt := range []struct {
		name                    string
		args                    []string
		localMeasures           bool
		localCounts, remoteCnts [2]uint64 // [sent, received]
	}{
		{"pushpull thr", []string{"thr", "--pattern", "pushpull", "--transport", "tcp"}, true, [2]uint64{0, 800}, [2]uint64{800, 0}},
		{"reqrep lat", []string{"lat", "--pattern", "reqrep", "--transport", "tcp"}, false, [2]uint64{0, 800}, [2]uint64{800, 800}},
		{"pubsub thr ipc", []string{"thr", "--pattern", "pubsub", "--transport", "ipc", "--hwm", "10000"}, false, [2]uint64{800, 0}, [2]uint64{0, 800}},
		{"pushpull thr quic", []string{"thr", "--pattern", "pushpull", "--transport", "quic"}, true, [2]uint64{0, 800}, [2]uint64{800, 0}},
		{"pushpull thr quic raw", []string{"thr", "--pattern", "pushpull", "--transport", "quic", "--impl", "raw"}, true, [2]uint64{0, 800}, [2]uint64{800, 0}},
		{"reqrep lat quic", []string{"lat", "--pattern", "reqrep", "--transport", "quic"}, false, [2]uint64{0, 800}, [2]uint64{800, 800}},
		{"reqrep lat quic raw", []string{"lat", "--pattern", "reqrep", "--transport", "quic", "--impl", "raw"}, false, [2]uint64{0, 800}, [2]uint64{800, 800}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			common := append(tt.args, "--count", "800", "--size", "64,700", "--json", "-", "--timeout", "50s")
			if strings.Contains(tt.name, "ipc") {
				common = append(common, "--endpoint", "ipc://"+t.TempDir()+"/bench.sock")
			}
			localArgs := slices.Concat(common, []string{"--role", "local"})
			remoteArgs := slices.Concat(common, []string{"--role", "remote"})
			if strings.Contains(tt.name, "quic") {
				files, err := quiccert.Write(t.TempDir())
				require.NoError(t, err)
				localArgs = append(localArgs, "--quic-cert", files.Cert, "--quic-key", files.Key)
				remoteArgs = append(remoteArgs, "--quic-ca", files.CA)
			}
			local := child(ctx, localArgs...)
			var localOut bytes.Buffer
			local.Stdout = &localOut
			stderr, err := local.StderrPipe()
			require.NoError(t, err)
			require.NoError(t, local.Start())
			sc := bufio.NewScanner(stderr)
			var m []string
			var localErr strings.Builder
			for m == nil && sc.Scan() {
				localErr.WriteString(sc.Text() + "\n")
				m = listeningRE.FindStringSubmatch(sc.Text())
			}
			require.NotNil(t, m, "local side did not say where it listens:\n%s", localErr.String())
			go io.Copy(io.Discard, stderr)

			remoteArgs = append(remoteArgs, "--endpoint", m[1])
			if m[2] != "" {
				remoteArgs = append(remoteArgs, "--return-endpoint", m[2])
			}
			remote := child(ctx, remoteArgs...)
			var remoteOut, remoteErr bytes.Buffer
			remote.Stdout, remote.Stderr = &remoteOut, &remoteErr
			require.NoError(t, remote.Run(), "remote: %s", remoteErr.String())
			require.NoError(t, local.Wait(), "local: %s", localErr.String())

			l, r := decode(t, localOut.String()), decode(t, remoteOut.String())
			require.Len(t, l.Results, 2)
			require.Len(t, r.Results, 2)
			for k := range l.Results {
				lr, rr := l.Results[k], r.Results[k]
				assert.Equal(t, "local", lr.Role)
				assert.Equal(t, "remote", rr.Role)
				assert.Equal(t, tt.localMeasures, lr.Measured)
				assert.Equal(t, !tt.localMeasures, rr.Measured)
				assert.Equal(t, tt.localCounts, [2]uint64{lr.Sent, lr.Received}, "local [sent, received]")
				assert.Equal(t, tt.remoteCnts, [2]uint64{rr.Sent, rr.Received}, "remote [sent, received]")
				measured := lr
				if !tt.localMeasures {
					measured = rr
				}
				assert.Zero(t, measured.Lost)
				assert.EqualValues(t, measured.Received, measured.Corrected.Count)
				assert.Positive(t, measured.Corrected.P50)
			}
		})
	}
}
