package quic

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"syscall"

	"github.com/quic-go/quic-go"

	"github.com/brookmq/brook/transport"
)

// udpSocket is one UDP socket and the quic.Transport running on it,
// shared by whoever holds a reference: a listener and the connections it
// accepted, or the connections a Transport dialed. The last release
// closes both, so closing a listener leaves its connections running.
type udpSocket struct {
	udp *net.UDPConn
	qt  *quic.Transport

	mu   sync.Mutex
	refs int // 0 once the last reference is gone: the socket is closed
}

// openUDP binds addr (nil: any address, any port) and starts a
// quic.Transport on it with one reference held.
func openUDP(addr *net.UDPAddr, log *slog.Logger) (*udpSocket, error) {
	udp, err := net.ListenUDP("udp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("%w: udp %s", transport.ErrAddrInUse, addr)
		}
		return nil, fmt.Errorf("brook: quic: bind udp %s: %w", addr, err)
	}
	return &udpSocket{
		udp:  udp,
		qt:   &quic.Transport{Conn: newUDPConn(udp, log)},
		refs: 1,
	}, nil
}

// acquire takes one more reference; the caller holds one already.
func (s *udpSocket) acquire() {
	s.mu.Lock()
	s.refs++
	s.mu.Unlock()
}

// tryAcquire takes one more reference unless the socket is closed or
// closing.
func (s *udpSocket) tryAcquire() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refs == 0 {
		return false
	}
	s.refs++
	return true
}

// release drops a reference; the last one closes the quic.Transport (and
// with it every goroutine quic-go runs for it) and the socket.
func (s *udpSocket) release() {
	s.mu.Lock()
	s.refs--
	last := s.refs == 0
	s.mu.Unlock()
	if last {
		_ = s.qt.Close()
		_ = s.udp.Close()
	}
}
