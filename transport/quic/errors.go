package quic

import (
	"crypto/tls"
	"errors"
	"fmt"

	"github.com/quic-go/quic-go"
)

// Errors of the quic transport, matched with errors.Is.
var (
	// ErrConfig means an Option was given an invalid value.
	ErrConfig = errors.New("brook: quic: invalid option")
	// ErrTLS means the TLS handshake failed: the peer's certificate was
	// not trusted or not valid for the name, or the peer refused ours.
	ErrTLS = errors.New("brook: quic: TLS handshake failed")
	// ErrALPN means the peer does not speak the omq-zmtp/1 profile: no
	// common application protocol.
	ErrALPN = errors.New("brook: quic: peer does not speak " + ALPN)
)

// tlsAlertNoApplicationProtocol is TLS alert 120; QUIC carries a TLS alert
// as transport error 0x100 + alert.
const (
	cryptoErrorBase               = 0x100
	tlsAlertNoApplicationProtocol = 120
)

// dialError turns a failed QUIC dial into an error that says what went
// wrong in brook's words. Certificate verification failures keep the
// *tls.CertificateVerificationError for errors.As. quic-go's own error
// values are not wrapped: they match net.ErrClosed, which brook reserves
// for a local Close.
func dialError(addr string, err error) error {
	var certErr *tls.CertificateVerificationError
	if errors.As(err, &certErr) {
		return fmt.Errorf("%w with %s: certificate not trusted: %w", ErrTLS, addr, certErr)
	}
	var te *quic.TransportError
	if errors.As(err, &te) {
		code := uint64(te.ErrorCode)
		switch {
		case code == cryptoErrorBase+tlsAlertNoApplicationProtocol:
			return fmt.Errorf("%w: %s: %s", ErrALPN, addr, te.Error())
		case code >= cryptoErrorBase && code < cryptoErrorBase+0x100:
			return fmt.Errorf("%w with %s: %s", ErrTLS, addr, te.Error())
		}
	}
	if cerr := connError(err); cerr != nil {
		return fmt.Errorf("brook: quic: dial %s: %w", addr, cerr)
	}
	return nil
}
