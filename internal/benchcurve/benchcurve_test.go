package benchcurve

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The constants are two matching key pairs: each public key is the one
// its secret key derives.
func TestKeyPairsMatch(t *testing.T) {
	for _, kp := range [][2]string{{ServerPublic, ServerSecret}, {ClientPublic, ClientSecret}} {
		p, err := pair(kp[0], kp[1])
		require.NoError(t, err)
		derived, err := p.Secret.Public()
		require.NoError(t, err)
		assert.Equal(t, p.Public, derived)
	}
	for _, server := range []bool{true, false} {
		o, err := Option(server)
		require.NoError(t, err)
		assert.NotNil(t, o)
	}
}
