package inproc

import (
	"errors"
	"fmt"

	"github.com/brookmq/brook/transport"
)

// ErrNoFrames is returned by WriteMsg for a message without frames: no
// transport can carry one, so inproc refuses it too rather than hand the
// peer something a stream transport could never deliver.
var ErrNoFrames = errors.New("brook: inproc: message has no frames")

// errPeerClosed is what a reader sees once the other side has closed and
// everything it wrote has been read.
var errPeerClosed = fmt.Errorf("%w: inproc peer closed the connection", transport.ErrClosed)
