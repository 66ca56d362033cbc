package zmtp

import (
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The CURVE sender boxes a frame too large to keep a ciphertext buffer
// for into one from the pools, and gives it back once written.
func TestSealerRecyclesLargeCiphertext(t *testing.T) {
	recycling(t)
	box := newMessageBox(&[keySize]byte{1}, prefixMsgC, 0)
	s := &sealer{box: box}
	plain := rawFrame(0, patterned(maxKeptCipher+1000, 1))
	require.NoError(t, s.write(io.Discard, plain, nil))
	assert.Nil(t, s.big, "the buffer went back")
	allocs := testing.AllocsPerRun(20, func() {
		if err := s.write(io.Discard, plain, nil); err != nil {
			t.Fatal(err)
		}
	})
	// The race detector's sync.Pool drops a quarter of what is put back.
	assert.Less(t, allocs, 0.5, "ciphertext buffers taken from the pools")
}
