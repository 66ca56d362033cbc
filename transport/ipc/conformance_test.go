package ipc

import (
	"path/filepath"
	"testing"

	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/transporttest"
)

func TestConformance(t *testing.T) {
	transporttest.Run(t, func(t *testing.T) (transport.Transport, string) {
		return New(), "ipc://" + filepath.Join(t.TempDir(), "c.sock")
	}, transporttest.Caps{ByteStream: true})
}
