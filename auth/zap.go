package auth

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"

	"github.com/brookmq/brook/transport"
)

// ZAPEndpoint is where a process's ZAP handler binds (RFC 27).
const ZAPEndpoint = "inproc://zeromq.zap.01"

// zapVersion is the only version of ZAP.
const zapVersion = "1.0"

// ErrZAP means a ZAP request or reply is malformed, or no ZAP handler
// answered.
var ErrZAP = errors.New("brook: ZAP")

// zapRequest is a request's frames after the envelope: version, request
// id, domain, address, identity, mechanism, credentials.
func encodeZAPRequest(id string, req *transport.AuthRequest) [][]byte {
	frames := [][]byte{
		[]byte(zapVersion), []byte(id), []byte(req.Domain), []byte(req.Address),
		append([]byte(nil), req.Identity...), []byte(req.Mechanism),
	}
	for _, c := range req.Credentials {
		frames = append(frames, append([]byte(nil), c...))
	}
	return frames
}

// decodeZAPRequest reads the frames after the envelope. It returns the
// request id (when there is one, so even a malformed request can be
// answered) and the request.
func decodeZAPRequest(frames [][]byte) (id []byte, req *transport.AuthRequest, err error) {
	if len(frames) >= 2 {
		id = frames[1]
	}
	if len(frames) < 6 {
		return id, nil, fmt.Errorf("%w: request of %d frames, want at least 6", ErrZAP, len(frames))
	}
	if string(frames[0]) != zapVersion {
		return id, nil, fmt.Errorf("%w: request version %q, want %q", ErrZAP, frames[0], zapVersion)
	}
	if len(frames[5]) == 0 {
		return id, nil, fmt.Errorf("%w: request without a mechanism", ErrZAP)
	}
	req = &transport.AuthRequest{
		Domain:      string(frames[2]),
		Address:     string(frames[3]),
		Identity:    frames[4],
		Mechanism:   string(frames[5]),
		Credentials: frames[6:],
	}
	return id, req, nil
}

// encodeZAPReply is a reply's frames after the envelope.
func encodeZAPReply(id []byte, r transport.AuthReply) ([][]byte, error) {
	meta, err := encodeMetadata(r.Metadata)
	if err != nil {
		return nil, err
	}
	user := r.UserID
	if r.Status != transport.StatusOK {
		user, meta = "", nil // RFC 27: for other statuses the user id is empty
	}
	return [][]byte{
		[]byte(zapVersion), append([]byte(nil), id...), []byte(strconv.Itoa(r.Status)),
		[]byte(r.Text), []byte(user), meta,
	}, nil
}

// decodeZAPReply reads a reply's six frames after the envelope, checked
// as libzmq checks them.
func decodeZAPReply(frames [][]byte) (id string, r transport.AuthReply, err error) {
	if len(frames) != 6 {
		return "", r, fmt.Errorf("%w: reply of %d frames, want 6", ErrZAP, len(frames))
	}
	if string(frames[0]) != zapVersion {
		return "", r, fmt.Errorf("%w: reply version %q, want %q", ErrZAP, frames[0], zapVersion)
	}
	code := string(frames[2])
	if len(code) != 3 || code[1] != '0' || code[2] != '0' || code[0] < '2' || code[0] > '5' {
		return "", r, fmt.Errorf("%w: reply status %q is not 200, 300, 400 or 500", ErrZAP, code)
	}
	r.Status, _ = strconv.Atoi(code)
	r.Text = string(frames[3])
	r.UserID = string(frames[4])
	if r.Metadata, err = decodeMetadata(frames[5]); err != nil {
		return "", transport.AuthReply{}, err
	}
	return string(frames[1]), r, nil
}

// encodeMetadata writes properties in ZMTP's metadata format.
func encodeMetadata(props map[string][]byte) ([]byte, error) {
	var b []byte
	for name, v := range props {
		if name == "" || len(name) > 255 {
			return nil, fmt.Errorf("%w: metadata name %q must be 1 to 255 bytes", ErrZAP, name)
		}
		if uint64(len(v)) > 1<<31-1 {
			return nil, fmt.Errorf("%w: metadata %q too long", ErrZAP, name)
		}
		b = append(b, byte(len(name)))
		b = append(b, name...)
		b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
		b = append(b, v...)
	}
	return b, nil
}

// decodeMetadata reads ZMTP's metadata format; nil for none.
func decodeMetadata(b []byte) (map[string][]byte, error) {
	var props map[string][]byte
	for len(b) > 0 {
		n := int(b[0])
		if n == 0 || len(b) < 1+n+4 {
			return nil, fmt.Errorf("%w: truncated metadata", ErrZAP)
		}
		name := string(b[1 : 1+n])
		vlen := binary.BigEndian.Uint32(b[1+n:])
		b = b[1+n+4:]
		if uint64(vlen) > uint64(len(b)) {
			return nil, fmt.Errorf("%w: metadata %q announces %d bytes, %d left", ErrZAP, name, vlen, len(b))
		}
		if props == nil {
			props = make(map[string][]byte)
		}
		props[name] = append(make([]byte, 0, vlen), b[:vlen]...)
		b = b[vlen:]
	}
	return props, nil
}
