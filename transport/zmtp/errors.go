package zmtp

import (
	"fmt"

	"github.com/brookmq/brook/transport"
)

// ErrMechanismMismatch means the peer announced a different security
// mechanism than ours (for example PLAIN against NULL). It matches
// transport.ErrProtocol.
var ErrMechanismMismatch error = mechanismError{}

type mechanismError struct{}

func (mechanismError) Error() string        { return "brook: zmtp security mechanism mismatch" }
func (mechanismError) Is(target error) bool { return target == transport.ErrProtocol }

// protocolErrorf returns an error matching transport.ErrProtocol.
func protocolErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{transport.ErrProtocol}, args...)...)
}
