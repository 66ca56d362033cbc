package zstd

import (
	"fmt"

	"github.com/klauspost/compress/zstd"
)

// Limits and defaults of the zstd+tcp profile.
const (
	// Threshold is the smallest part compressed when no dictionary is
	// installed; shorter parts go uncompressed.
	Threshold = 512
	// DictThreshold is the smallest part compressed when a dictionary is
	// installed.
	DictThreshold = 64
	// MaxDictSize is the largest dictionary the profile allows (8 KiB).
	MaxDictSize = 8 << 10
	// DefaultLevel is the compression level used unless WithLevel says
	// otherwise (the fastest).
	DefaultLevel = 1
	// DefaultMaxPartSize bounds the decompressed size of one part when the
	// socket sets no maximum message size.
	DefaultMaxPartSize = 256 << 20
)

// Option configures a Transport.
type Option func(*config)

type config struct {
	level       int
	dict        []byte
	maxPartSize int64
	err         error
}

func defaultConfig() config {
	return config{level: DefaultLevel, maxPartSize: DefaultMaxPartSize}
}

// WithLevel sets the Zstandard compression level, from 1 (fastest, the
// default) to 22; klauspost/compress maps it to one of its four encoder
// speeds. A level outside 1..22 makes Dial and Listen fail.
func WithLevel(level int) Option {
	return func(c *config) {
		if level < 1 || level > 22 {
			c.setErr(fmt.Errorf("%w: compression level %d not in 1..22", ErrConfig, level))
			return
		}
		c.level = level
	}
}

// WithDictionary installs a Zstandard dictionary (the format "zstd --train"
// and zstd.BuildDict produce, starting with the dictionary magic
// 37 A4 30 EC) of at most 8 KiB. It is shipped once to every peer right
// after the handshake, and parts of 64 bytes and more are compressed with
// it. The peer needs no configuration to decode them. An invalid dictionary
// makes Dial and Listen fail. The slice is copied.
func WithDictionary(dict []byte) Option {
	return func(c *config) {
		if err := checkDictionary(dict); err != nil {
			c.setErr(fmt.Errorf("%w: %w", ErrConfig, err))
			return
		}
		c.dict = append([]byte(nil), dict...)
	}
}

// WithMaxPartSize bounds the decompressed size of one inbound part when the
// socket has no maximum message size (transport.Config.MaxMsgSize <= 0),
// so that a tiny frame announcing a huge size cannot make the receiver
// allocate it. The default is 256 MiB. n must be positive.
func WithMaxPartSize(n int64) Option {
	return func(c *config) {
		if n <= 0 {
			c.setErr(fmt.Errorf("%w: max part size %d must be positive", ErrConfig, n))
			return
		}
		c.maxPartSize = n
	}
}

func (c *config) setErr(err error) {
	if c.err == nil {
		c.err = err
	}
}

// checkDictionary validates a dictionary as the profile requires: the
// Zstandard dictionary format, at most MaxDictSize bytes, loadable by the
// decoder.
func checkDictionary(dict []byte) error {
	if len(dict) > MaxDictSize {
		return fmt.Errorf("dictionary of %d bytes is larger than %d", len(dict), MaxDictSize)
	}
	if len(dict) < 8 || sentinelOf(dict) != sentinelDict {
		return fmt.Errorf("dictionary does not start with the Zstandard dictionary magic 37 A4 30 EC")
	}
	d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderDicts(dict))
	if err != nil {
		return fmt.Errorf("dictionary rejected by the decoder: %w", err)
	}
	d.Close()
	return nil
}
