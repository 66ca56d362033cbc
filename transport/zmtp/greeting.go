package zmtp

import "bytes"

// Greeting layout (RFC 23 section "Greeting").
const (
	greetingSize     = 64
	signatureSize    = 10 // 0xFF, 8 bytes of padding, 0x7F
	mechanismOffset  = 12
	mechanismSize    = 20
	asServerOffset   = 32
	versionMajor     = 3
	versionMinor     = 1
	signatureFirst   = 0xFF
	signatureLast    = 0x7F
	majorOffset      = 10
	minorOffset      = 11
	legacyVersionBit = 0x01
)

// greeting is the decoded form of a peer's 64-byte greeting.
type greeting struct {
	major, minor byte
	mechanism    string
	asServer     bool
}

// appendGreeting appends our 64-byte greeting announcing ZMTP 3.1 and the
// named mechanism.
func appendGreeting(dst []byte, mechanism string, asServer bool) []byte {
	var g [greetingSize]byte
	g[0] = signatureFirst
	g[9] = signatureLast
	g[majorOffset] = versionMajor
	g[minorOffset] = versionMinor
	copy(g[mechanismOffset:mechanismOffset+mechanismSize], mechanism)
	if asServer {
		g[asServerOffset] = 1
	}
	return append(dst, g[:]...)
}

// checkSignature validates the first signatureSize bytes of a greeting, so a
// peer that is not speaking ZMTP 3 is rejected before we wait for the rest.
// The padding is never checked: libzmq puts data there.
func checkSignature(b []byte) error {
	if b[0] != signatureFirst || b[9]&legacyVersionBit == 0 {
		return protocolErrorf("peer did not send a ZMTP greeting (starts % x)", b[:signatureSize])
	}
	return nil
}

// parseGreeting decodes a whole 64-byte greeting. It accepts any version
// from 3.0 up and any mechanism name; the caller decides whether the
// mechanism matches.
func parseGreeting(b []byte) (greeting, error) {
	if len(b) < greetingSize {
		return greeting{}, protocolErrorf("greeting is %d bytes, want %d", len(b), greetingSize)
	}
	if err := checkSignature(b); err != nil {
		return greeting{}, err
	}
	g := greeting{major: b[majorOffset], minor: b[minorOffset]}
	if g.major < versionMajor {
		return greeting{}, protocolErrorf("peer speaks ZMTP %d.%d, want 3.0 or later", g.major, g.minor)
	}
	// The name is NUL padded; anything after the first NUL must be NUL too
	// (libzmq compares all 20 bytes), else the name is kept whole and
	// matches no mechanism.
	mech := b[mechanismOffset : mechanismOffset+mechanismSize]
	if i := bytes.IndexByte(mech, 0); i >= 0 && allZero(mech[i:]) {
		mech = mech[:i]
	}
	g.mechanism = string(mech)
	g.asServer = b[asServerOffset] != 0
	return g, nil
}

// version returns the peer's version as major*10+minor.
func (g greeting) version() int { return int(g.major)*10 + int(g.minor) }

// legacy30 reports whether the peer asked for ZMTP 3.0 rules.
func (g greeting) legacy30() bool { return g.major == 3 && g.minor == 0 }

func allZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}
