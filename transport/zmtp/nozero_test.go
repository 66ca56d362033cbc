package zmtp

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// uninitialized gives each caller memory of its own, of exactly the size
// asked, in one allocation.
func TestUninitializedIsMemoryOfItsOwn(t *testing.T) {
	for _, n := range []int{0, 1, 100, 4 << 10, 64 << 10, 1 << 20} {
		t.Run(byteCount(n), func(t *testing.T) {
			a, b := uninitialized(n), uninitialized(n)
			require.Len(t, a, n)
			require.Equal(t, n, cap(a), "no room to append into a neighbour")
			for i := range a {
				a[i], b[i] = 0xAA, 0x55
			}
			for i := range a {
				if a[i] != 0xAA || b[i] != 0x55 {
					require.Failf(t, "shared memory", "byte %d: %x %x", i, a[i], b[i])
				}
			}
			if n > 0 {
				allocs := testing.AllocsPerRun(10, func() { _ = uninitialized(n) })
				assert.Equal(t, 1.0, allocs)
			}
		})
	}
}
