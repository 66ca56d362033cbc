package zstd

import (
	"errors"

	"github.com/brookmq/brook/transport"
)

// Errors of the zstd+tcp profile. All but ErrConfig match
// transport.ErrProtocol: the peer broke the profile and the connection is
// dropped.
var (
	// ErrConfig means an Option was given an invalid value; Dial and
	// Listen return it.
	ErrConfig = errors.New("brook: zstd+tcp: invalid option")
	// ErrUnknownSentinel means a wire part started with none of the three
	// sentinels, or was shorter than 4 bytes.
	ErrUnknownSentinel error = protocolError("brook: zstd+tcp: unknown part sentinel")
	// ErrNoContentSize means a compressed part's frame header does not
	// carry Frame_Content_Size.
	ErrNoContentSize error = protocolError("brook: zstd+tcp: frame without Frame_Content_Size")
	// ErrBadFrame means a compressed part is not one valid Zstandard frame
	// that decodes to exactly its declared size.
	ErrBadFrame error = protocolError("brook: zstd+tcp: bad Zstandard frame")
	// ErrSecondDictionary means the peer shipped a dictionary twice on one
	// connection.
	ErrSecondDictionary error = protocolError("brook: zstd+tcp: second dictionary shipment")
	// ErrBadDictionary means a dictionary shipment is larger than 8 KiB or
	// cannot be loaded.
	ErrBadDictionary error = protocolError("brook: zstd+tcp: bad dictionary shipment")
)

// protocolError is a sentinel that also matches transport.ErrProtocol.
type protocolError string

func (e protocolError) Error() string        { return string(e) }
func (e protocolError) Is(target error) bool { return target == transport.ErrProtocol }
