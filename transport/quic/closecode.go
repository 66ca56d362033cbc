package quic

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/quic-go/quic-go"

	"github.com/brookmq/brook/transport"
)

// CloseCode is an application error code that ends a QUIC connection, as
// the omq-zmtp/1 profile defines them.
type CloseCode uint64

// The close codes of the profile.
const (
	// CodeCompleted is a graceful close.
	CodeCompleted CloseCode = 0
	// CodeInvalidSetup is an invalid setup or a setup timeout: streams,
	// liveness preface or ZMTP handshake.
	CodeInvalidSetup CloseCode = 1
	// CodeInvalidLiveness is an invalid or ended liveness stream: bad
	// preface, unknown record type, stream closed or reset.
	CodeInvalidLiveness CloseCode = 2
	// CodeLivenessTimeout means no valid liveness record arrived within
	// the liveness timeout.
	CodeLivenessTimeout CloseCode = 3
	// CodeUnexpectedStream means the peer opened a stream the profile does
	// not allow.
	CodeUnexpectedStream CloseCode = 4
	// CodeAbort is a local abort, or a close whose linger ran out before
	// the peer took all the data.
	CodeAbort CloseCode = 5
)

// String names the code.
func (c CloseCode) String() string {
	switch c {
	case CodeCompleted:
		return "completed"
	case CodeInvalidSetup:
		return "invalid setup"
	case CodeInvalidLiveness:
		return "invalid liveness stream"
	case CodeLivenessTimeout:
		return "liveness timeout"
	case CodeUnexpectedStream:
		return "unexpected stream"
	case CodeAbort:
		return "abort"
	}
	return fmt.Sprintf("code %d", uint64(c))
}

// CloseError says why a QUIC connection ended: the application error code,
// which side closed it, and the reason text sent with it.
//
// It matches transport.ErrProtocol for codes 1, 2 and 4 and for unknown
// codes, transport.ErrPeerTimeout for code 3, transport.ErrHandshakeTimeout
// for a local setup timeout, and io.EOF for a graceful close by the peer.
type CloseError struct {
	Code CloseCode
	// Remote is true when the peer closed the connection.
	Remote bool
	// Reason is the text sent with the code.
	Reason string
	// setupTimeout marks a local code 1 caused by the setup deadline.
	setupTimeout bool
}

func (e *CloseError) Error() string {
	who := "we closed"
	if e.Remote {
		who = "peer closed"
	}
	if e.Reason == "" {
		return fmt.Sprintf("brook: quic: %s the connection: %d (%s)", who, uint64(e.Code), e.Code)
	}
	return fmt.Sprintf("brook: quic: %s the connection: %d (%s): %s", who, uint64(e.Code), e.Code, e.Reason)
}

// Is matches the brook sentinels described on CloseError.
func (e *CloseError) Is(target error) bool {
	switch target {
	case transport.ErrProtocol:
		return e.Code == CodeInvalidSetup || e.Code == CodeInvalidLiveness || e.Code == CodeUnexpectedStream || e.Code > CodeAbort
	case transport.ErrPeerTimeout:
		return e.Code == CodeLivenessTimeout
	case transport.ErrHandshakeTimeout:
		return e.setupTimeout
	case io.EOF:
		return e.Remote && e.Code == CodeCompleted
	}
	return false
}

// connError turns the cause of a QUIC connection's end into a brook error
// that does not expose quic-go's error values (they match net.ErrClosed,
// which brook reserves for a local Close).
func connError(cause error) error {
	if cause == nil {
		return nil
	}
	var appErr *quic.ApplicationError
	if errors.As(cause, &appErr) {
		return &CloseError{Code: CloseCode(appErr.ErrorCode), Remote: appErr.Remote, Reason: appErr.ErrorMessage}
	}
	var idle *quic.IdleTimeoutError
	if errors.As(cause, &idle) {
		return fmt.Errorf("%w: quic: no network activity: %s", transport.ErrPeerTimeout, cause.Error())
	}
	var hsTimeout *quic.HandshakeTimeoutError
	if errors.As(cause, &hsTimeout) {
		return fmt.Errorf("%w: quic: %s", transport.ErrHandshakeTimeout, cause.Error())
	}
	if errors.Is(cause, context.Canceled) || errors.Is(cause, context.DeadlineExceeded) {
		return cause
	}
	return fmt.Errorf("brook: quic: connection lost: %s", cause.Error())
}
