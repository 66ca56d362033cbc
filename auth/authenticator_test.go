package auth

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/curve"
	"github.com/brookmq/brook/transport"
)

func TestAddrRules(t *testing.T) {
	for _, tc := range []struct {
		rule, addr string
		want       bool
	}{
		{"192.0.2.7", "192.0.2.7", true},
		{"192.0.2.7", "192.0.2.8", false},
		{"10.0.0.0/8", "10.200.3.4", true},
		{"10.0.0.0/8", "11.0.0.1", false},
		{"10.1.2.3/8", "10.9.9.9", true}, // the prefix is masked
		{"::1", "::1", true},
		{"2001:db8::/32", "2001:db8:1::5", true},
		{"192.0.2.0/24", "::ffff:192.0.2.9", true}, // IPv4-mapped
		{"localhost:1000:1000:42", "localhost:1000:1000:42", true},
		{"localhost:1000:1000:", "localhost:1000:1000:4242", true},
		{"localhost:1000:", "localhost:10000:1:1", false},
		{"localhost:1000:1000:42", "localhost:1000:1000:421", false},
		{"192.0.2.7", "", false},
		{"192.0.2.7", "localhost:1000:1000:1", false},
	} {
		r, err := parseAddrRule(tc.rule)
		require.NoError(t, err, tc.rule)
		assert.Equal(t, tc.want, r.matches(tc.addr), "%s ~ %s", tc.rule, tc.addr)
	}
	for _, bad := range []string{"", "not-an-ip", "10.0.0.0/33", "1.2.3"} {
		_, err := parseAddrRule(bad)
		assert.Error(t, err, bad)
	}
}

func req(mech, addr string, creds ...[]byte) *transport.AuthRequest {
	return &transport.AuthRequest{Domain: "d", Address: addr, Mechanism: mech, Credentials: creds}
}

func verdict(t *testing.T, a *Authenticator, r *transport.AuthRequest) transport.AuthReply {
	t.Helper()
	reply, err := a.Authenticate(context.Background(), r)
	require.NoError(t, err)
	return reply
}

func TestAuthenticatorAddresses(t *testing.T) {
	a := New()
	assert.Equal(t, 200, verdict(t, a, req("NULL", "192.0.2.1")).Status, "NULL is admitted by default")

	require.NoError(t, a.Deny("192.0.2.0/24"))
	r := verdict(t, a, req("NULL", "192.0.2.1"))
	assert.Equal(t, 400, r.Status)
	assert.Contains(t, r.Text, "denied")
	assert.Equal(t, 200, verdict(t, a, req("NULL", "198.51.100.1")).Status)

	require.NoError(t, a.Allow("198.51.100.0/24", "192.0.2.1"))
	assert.Equal(t, 400, verdict(t, a, req("NULL", "192.0.2.1")).Status, "deny wins over allow")
	assert.Equal(t, 200, verdict(t, a, req("NULL", "198.51.100.1")).Status)
	r = verdict(t, a, req("NULL", "203.0.113.1"))
	assert.Equal(t, 400, r.Status)
	assert.Contains(t, r.Text, "not allowed")

	assert.Error(t, a.Allow("bogus"))
	assert.Error(t, a.Deny("bogus"))
}

func TestAuthenticatorPlain(t *testing.T) {
	a := New()
	r := verdict(t, a, req("PLAIN", "::1", []byte("admin"), []byte("secret")))
	assert.Equal(t, 400, r.Status, "no users: PLAIN is refused")

	a.SetPasswords(map[string]string{"admin": "secret"})
	r = verdict(t, a, req("PLAIN", "::1", []byte("admin"), []byte("secret")))
	assert.Equal(t, transport.AuthReply{Status: 200, UserID: "admin"}, r)
	for _, bad := range [][2]string{{"admin", "Secret"}, {"admin", "secret "}, {"admin", ""}, {"root", "secret"}} {
		r = verdict(t, a, req("PLAIN", "::1", []byte(bad[0]), []byte(bad[1])))
		assert.Equal(t, 400, r.Status, bad)
		assert.Equal(t, "invalid user name or password", r.Text, "the reason does not tell which was wrong")
	}
	assert.Equal(t, 400, verdict(t, a, req("PLAIN", "::1", []byte("admin"))).Status, "one credential")

	a.SetPlainFunc(func(_ context.Context, domain, user, pass string) (string, bool, error) {
		switch user {
		case "ldap":
			return "cn=ldap," + domain, pass == "pw", nil
		case "broken":
			return "", false, errors.New("directory down")
		}
		return "", false, nil
	})
	r = verdict(t, a, req("PLAIN", "::1", []byte("ldap"), []byte("pw")))
	assert.Equal(t, "cn=ldap,d", r.UserID)
	assert.Equal(t, 400, verdict(t, a, req("PLAIN", "::1", []byte("ldap"), []byte("no"))).Status)
	_, err := a.Authenticate(context.Background(), req("PLAIN", "::1", []byte("broken"), []byte("x")))
	assert.ErrorContains(t, err, "directory down")
	assert.Equal(t, 200, verdict(t, a, req("PLAIN", "::1", []byte("admin"), []byte("secret"))).Status, "the table comes first")
}

func newKey(t *testing.T) curve.Key {
	t.Helper()
	kp, err := curve.NewKeyPair()
	require.NoError(t, err)
	return kp.Public
}

func TestAuthenticatorCurve(t *testing.T) {
	a := New()
	k1, k2, k3 := newKey(t), newKey(t), newKey(t)
	assert.Equal(t, 400, verdict(t, a, req("CURVE", "::1", k1[:])).Status, "no keys: CURVE is refused")

	a.AllowCurveKeys(k1)
	r := verdict(t, a, req("CURVE", "::1", k1[:]))
	assert.Equal(t, transport.AuthReply{Status: 200, UserID: k1.String()}, r, "the user id is the key in Z85")
	r = verdict(t, a, req("CURVE", "::1", k2[:]))
	assert.Equal(t, 400, r.Status)
	assert.Contains(t, r.Text, k2.String())
	assert.Equal(t, 400, verdict(t, a, req("CURVE", "::1", k1[:16])).Status, "a short key")

	a.SetCurveFunc(func(_ context.Context, _ string, k curve.Key) (string, bool, error) {
		if k == k3 {
			return "", false, errors.New("lookup failed")
		}
		return "svc-" + k.String()[:4], k == k2, nil
	})
	assert.Equal(t, "svc-"+k2.String()[:4], verdict(t, a, req("CURVE", "::1", k2[:])).UserID)
	_, err := a.Authenticate(context.Background(), req("CURVE", "::1", k3[:]))
	assert.ErrorContains(t, err, "lookup failed")

	a.AllowAnyCurve()
	assert.Equal(t, 200, verdict(t, a, req("CURVE", "::1", k3[:])).Status)
	assert.Equal(t, 400, verdict(t, a, req("GSSAPI", "::1")).Status)
}

func TestAuthenticatorCertificateDir(t *testing.T) {
	dir := t.TempDir()
	alice, err := curve.NewCertificate(map[string]string{"name": "alice"})
	require.NoError(t, err)
	require.NoError(t, alice.Save(filepath.Join(dir, "alice.key")))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a certificate"), 0o644))

	a := New()
	err = a.UseCertificateDir(dir)
	assert.ErrorIs(t, err, curve.ErrCertificate, "the stray file is reported")
	a.certs.every = 0 // check for changes at every lookup
	r := verdict(t, a, req("CURVE", "::1", alice.Public[:]))
	assert.Equal(t, 200, r.Status)
	assert.Equal(t, map[string][]byte{"name": []byte("alice")}, r.Metadata, "the certificate's metadata")

	// A certificate added is admitted, one removed is refused, without a restart.
	bob, err := curve.NewCertificate(nil)
	require.NoError(t, err)
	assert.Equal(t, 400, verdict(t, a, req("CURVE", "::1", bob.Public[:])).Status)
	require.NoError(t, bob.SavePublic(filepath.Join(dir, "bob.key")))
	assert.Equal(t, 200, verdict(t, a, req("CURVE", "::1", bob.Public[:])).Status)
	require.NoError(t, os.Remove(filepath.Join(dir, "alice.key")))
	assert.Equal(t, 400, verdict(t, a, req("CURVE", "::1", alice.Public[:])).Status)

	assert.ErrorIs(t, New().UseCertificateDir(filepath.Join(dir, "missing")), errNoCertificates)
}

// Changes to the directory are looked for at most once per interval.
func TestCertificateDirRescanInterval(t *testing.T) {
	dir := t.TempDir()
	a := New()
	require.NoError(t, a.UseCertificateDir(dir))
	a.certs.every = time.Hour
	c, err := curve.NewCertificate(nil)
	require.NoError(t, err)
	require.NoError(t, c.SavePublic(filepath.Join(dir, "c")))
	a.certs.mu.Lock()
	a.certs.checked = time.Now()
	a.certs.mu.Unlock()
	assert.Equal(t, 400, verdict(t, a, req("CURVE", "::1", c.Public[:])).Status, "not rescanned yet")
	a.certs.mu.Lock()
	a.certs.checked = time.Time{}
	a.certs.mu.Unlock()
	assert.Equal(t, 200, verdict(t, a, req("CURVE", "::1", c.Public[:])).Status)
}

func TestSetLoggerNil(t *testing.T) {
	a := New()
	a.SetLogger(nil)
	assert.Equal(t, 200, verdict(t, a, req("NULL", "::1")).Status)
}
