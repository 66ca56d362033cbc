package curve

import (
	"errors"
	"fmt"
)

// z85Alphabet maps the values 0..84 to their Z85 characters (RFC 32).
const z85Alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"

// z85Values maps a character to its value plus one; zero marks a byte
// that is not in the alphabet.
var z85Values = func() (t [256]byte) {
	for i := 0; i < len(z85Alphabet); i++ {
		t[z85Alphabet[i]] = byte(i + 1)
	}
	return t
}()

// ErrZ85 means a string is not valid Z85, or binary data cannot be
// encoded as Z85 (its length is not a multiple of 4).
var ErrZ85 = errors.New("brook: invalid Z85")

// EncodeZ85 returns the Z85 text of src (RFC 32): five characters for
// every four bytes. len(src) must be a multiple of 4.
func EncodeZ85(src []byte) (string, error) {
	if len(src)%4 != 0 {
		return "", fmt.Errorf("%w: %d bytes is not a multiple of 4", ErrZ85, len(src))
	}
	dst := make([]byte, len(src)/4*5)
	encodeZ85(dst, src)
	return string(dst), nil
}

// encodeZ85 writes the Z85 text of src (a multiple of 4 bytes) to dst,
// which holds len(src)/4*5 bytes.
func encodeZ85(dst, src []byte) {
	for len(src) > 0 {
		v := uint32(src[0])<<24 | uint32(src[1])<<16 | uint32(src[2])<<8 | uint32(src[3])
		for i := 4; i >= 0; i-- {
			dst[i] = z85Alphabet[v%85]
			v /= 85
		}
		src, dst = src[4:], dst[5:]
	}
}

// DecodeZ85 returns the bytes a Z85 string stands for: four for every
// five characters. It fails, matching ErrZ85, when the length is not a
// multiple of 5, a character is not in the Z85 alphabet, or a group of
// five characters exceeds 32 bits.
func DecodeZ85(s string) ([]byte, error) {
	if len(s)%5 != 0 {
		return nil, fmt.Errorf("%w: %d characters is not a multiple of 5", ErrZ85, len(s))
	}
	dst := make([]byte, len(s)/5*4)
	if err := decodeZ85(dst, s); err != nil {
		return nil, err
	}
	return dst, nil
}

// decodeZ85 decodes s (a multiple of 5 characters) into dst.
func decodeZ85(dst []byte, s string) error {
	for g := 0; g < len(s); g += 5 {
		var v uint64
		for i := g; i < g+5; i++ {
			d := z85Values[s[i]]
			if d == 0 {
				return fmt.Errorf("%w: character %q at offset %d", ErrZ85, s[i], i)
			}
			v = v*85 + uint64(d-1)
		}
		if v > 0xFFFFFFFF {
			return fmt.Errorf("%w: group %q at offset %d exceeds 32 bits", ErrZ85, s[g:g+5], g)
		}
		o := g / 5 * 4
		dst[o], dst[o+1], dst[o+2], dst[o+3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
	}
	return nil
}
