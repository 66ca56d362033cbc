package zstd

import (
	"testing"

	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/transporttest"
)

func TestConformance(t *testing.T) {
	transporttest.Run(t, func(t *testing.T) (transport.Transport, string) {
		return New(), "zstd+tcp://127.0.0.1:0"
	}, transporttest.Caps{ByteStream: true})
}

func TestConformanceWithDictionary(t *testing.T) {
	dict := testDict(t)
	transporttest.Run(t, func(t *testing.T) (transport.Transport, string) {
		return New(WithDictionary(dict)), "zstd+tcp://127.0.0.1:0"
	}, transporttest.Caps{ByteStream: true})
}
