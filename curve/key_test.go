package curve

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The test keys of libzmq's zmq_curve(7) manual: each public key is the
// Curve25519 public key of its secret key.
var manualKeys = []struct{ public, secret string }{
	{"Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID", "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs"},
	{"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7", "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6"},
}

func TestManualTestKeys(t *testing.T) {
	for _, mk := range manualKeys {
		sec, err := ParseKey(mk.secret)
		require.NoError(t, err)
		kp, err := KeyPairFromSecret(sec)
		require.NoError(t, err)
		assert.Equal(t, mk.public, kp.Public.String())
		assert.Equal(t, mk.secret, kp.Secret.String())
	}
}

func TestParseKeyInvalid(t *testing.T) {
	for _, s := range []string{"", "short", manualKeys[0].public + "0", manualKeys[0].public[:35] + "     "} {
		_, err := ParseKey(s)
		assert.ErrorIs(t, err, ErrKey, "%q", s)
	}
}

func TestNewKeyPair(t *testing.T) {
	a, err := NewKeyPair()
	require.NoError(t, err)
	b, err := NewKeyPair()
	require.NoError(t, err)
	assert.False(t, a.Public.Equal(b.Public))
	pub, err := a.Secret.Public()
	require.NoError(t, err)
	assert.True(t, pub.Equal(a.Public))
	parsed, err := ParseKey(a.Public.String())
	require.NoError(t, err)
	assert.Equal(t, a.Public, parsed)
}

func TestKeyPairCheck(t *testing.T) {
	a, err := NewKeyPair()
	require.NoError(t, err)
	b, err := NewKeyPair()
	require.NoError(t, err)

	good := a
	require.NoError(t, good.Check())

	onlySecret := KeyPair{Secret: a.Secret}
	require.NoError(t, onlySecret.Check())
	assert.Equal(t, a.Public, onlySecret.Public, "the public key is completed")

	mixed := KeyPair{Public: b.Public, Secret: a.Secret}
	assert.ErrorIs(t, mixed.Check(), ErrKey)

	var zero KeyPair
	assert.ErrorIs(t, zero.Check(), ErrKey)
}

func TestKeyPairNeverPrintsItsSecret(t *testing.T) {
	kp, err := NewKeyPair()
	require.NoError(t, err)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(verb, kp)
		assert.NotContains(t, out, kp.Secret.String(), verb)
		assert.Contains(t, out, kp.Public.String(), verb)
	}
}
