package config_test

import (
	"testing"

	"github.com/brookmq/brook/cmd/mqbench/internal/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseSizes(t *testing.T) {
	tests := []struct {
		in   string
		want []int
	}{
		{"64", []int{64}},
		{" 64 , 1024 ", []int{64, 1024}},
		{"1k", []int{1024}},
		{"4KiB", []int{4096}},
		{"2K", []int{2048}},
		{"1m,1MiB,1M", []int{1 << 20, 1 << 20, 1 << 20}},
		{"64..65536x4", []int{64, 256, 1024, 4096, 16384, 65536}},
		{"100..1000x3", []int{100, 300, 900}},
		{"64..64x2", []int{64}},
		{"32,64..256x2,1k", []int{32, 64, 128, 256, 1024}},
		{"256MiB", []int{256 << 20}},
	}
	for _, tt := range tests {
		got, err := config.ParseSizes(tt.in)
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, got, tt.in)
	}
}

func TestParseSizesErrors(t *testing.T) {
	for _, in := range []string{"", "x", "-5", "0", "1.5k", "257m", "64..", "..64x2", "64..128", "64..128x", "64..128x0",
		"64..128x2000", "128..64x2", "1..1000000000x2", "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63,64,65"} {
		_, err := config.ParseSizes(in)
		require.ErrorIs(t, err, config.ErrUsage, "%q", in)
	}
}

func FuzzParseSizes(f *testing.F) {
	for _, s := range []string{"64", "64,1024", "64..65536x4", "1k,4KiB", "1..2x2", "", "x", "9999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sizes, err := config.ParseSizes(s)
		if err != nil {
			require.ErrorIs(t, err, config.ErrUsage)
			return
		}
		require.NotEmpty(t, sizes)
		require.LessOrEqual(t, len(sizes), 64)
		for _, n := range sizes {
			require.GreaterOrEqual(t, n, 1)
			require.LessOrEqual(t, n, config.MaxSize)
		}
	})
}
