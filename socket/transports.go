package socket

import (
	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/inproc"
	"github.com/brookmq/brook/transport/ipc"
	"github.com/brookmq/brook/transport/tcp"
	"github.com/brookmq/brook/transport/zstd"
)

// defaultTransports are the transports every socket knows: tcp, ipc,
// inproc (in the process-wide namespace) and zstd+tcp. Each socket gets
// its own instances (zstd+tcp keeps one codec per socket). QUIC is added
// with WithTransport so programs that never use it never link quic-go.
func defaultTransports() []transport.Transport {
	return []transport.Transport{tcp.New(), ipc.New(), inproc.New(inproc.Default()), zstd.New()}
}
