//go:build !libzmq

package impl

import "fmt"

// newLibzmq reports that libzmq support was left out of this build.
func newLibzmq() (Impl, error) {
	return nil, fmt.Errorf("%w: libzmq support is not compiled in: rebuild with `go build -tags libzmq` (needs cgo and libzmq3-dev)", ErrUnavailable)
}
