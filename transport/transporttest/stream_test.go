package transporttest_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"

	"go.uber.org/goleak"

	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/ipc"
	"github.com/brookmq/brook/transport/tcp"
	"github.com/brookmq/brook/transport/transporttest"
)

// The stream transports run the suite in their own packages with their
// usual endpoint; here they run it on the endpoint forms those runs leave
// out, so every address family a socket may be given is checked.

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var stream = transporttest.Caps{ByteStream: true}

func TestTCPIPv4(t *testing.T) {
	transporttest.Run(t, func(t *testing.T) (transport.Transport, string) {
		return tcp.New(), "tcp://127.0.0.1:0"
	}, stream)
}

func TestTCPIPv6(t *testing.T) {
	transporttest.Run(t, func(t *testing.T) (transport.Transport, string) {
		return tcp.New(), "tcp://[::1]:0"
	}, stream)
}

func TestIPCPath(t *testing.T) {
	transporttest.Run(t, func(t *testing.T) (transport.Transport, string) {
		return ipc.New(), "ipc://" + filepath.Join(t.TempDir(), "s.sock")
	}, stream)
}

// abstractSeq makes abstract socket names unique within the process; the
// process id makes them unique across concurrent test binaries.
var abstractSeq atomic.Int64

func TestIPCAbstract(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("abstract unix sockets exist only on Linux")
	}
	transporttest.Run(t, func(t *testing.T) (transport.Transport, string) {
		return ipc.New(), fmt.Sprintf("ipc://@brook-transporttest-%d-%d", os.Getpid(), abstractSeq.Add(1))
	}, stream)
}
