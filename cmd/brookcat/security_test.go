package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/brookmq/brook/curve"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// certs is a certificate directory for one test: a server, a client on
// the allow-list, and the allow-list directory.
type certs struct {
	dir, server, client, allow string
	serverKey, clientKey       curve.Key
}

func newCerts(t *testing.T) certs {
	t.Helper()
	c := certs{dir: t.TempDir()}
	c.server = filepath.Join(c.dir, "server.key")
	c.client = filepath.Join(c.dir, "client.key")
	c.allow = filepath.Join(c.dir, "clients")
	var err error
	c.serverKey, err = keygen(c.server)
	require.NoError(t, err)
	c.clientKey, err = keygen(c.client)
	require.NoError(t, err)
	require.NoError(t, os.Mkdir(c.allow, 0o755))
	cert, err := curve.LoadCertificate(c.client)
	require.NoError(t, err)
	require.NoError(t, cert.SavePublic(filepath.Join(c.allow, "client.key")))
	return c
}

// jsonLines decodes JSON output lines.
func jsonLines(t *testing.T, out string) []jsonMsg {
	t.Helper()
	var msgs []jsonMsg
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var m jsonMsg
		require.NoError(t, json.Unmarshal([]byte(l), &m), l)
		msgs = append(msgs, m)
	}
	return msgs
}

func TestSecurityFlagCombinations(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"two roles", []string{"-curve-server-key", "k", "-plain-user", "u", "PUSH", "tcp://h:1"}, "more than one role"},
		{"client and server", []string{"-curve-server-key", "k", "-curve-server", "s", "PUSH", "tcp://h:1"}, "more than one role"},
		{"cert without server key", []string{"-curve-cert", "c", "PUSH", "tcp://h:1"}, "give the server's public key with -curve-server-key"},
		{"allow without server", []string{"-curve-allow", "d", "PULL", "@tcp://h:1"}, "-curve-allow needs -curve-server"},
		{"password without user", []string{"-plain-password", "p", "PUSH", "tcp://h:1"}, "-plain-password needs -plain-user"},
		{"plain-allow without =", []string{"-plain-allow", "alice", "PULL", "@tcp://h:1"}, `-plain-allow "alice": want user=password`},
		{"plain-allow without user", []string{"-plain-allow", "=pw", "PULL", "@tcp://h:1"}, "want user=password"},
		{"keygen with a socket", []string{"-keygen", "k", "PUSH", "tcp://h:1"}, "-keygen takes no other flag"},
		{"keygen with a flag", []string{"-keygen", "k", "-n", "1"}, "-keygen takes no other flag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseArgs(tc.args)
			require.Error(t, err)
			assert.True(t, errors.Is(err, errUsage), "%v", err)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

// Unusable keys and files are reported with the flag and the file, exit
// code 2, before any socket is opened (nothing listens).
func TestSecurityBadKeysAndFiles(t *testing.T) {
	ctx := testCtx(t)
	c := newCerts(t)
	garbage := filepath.Join(c.dir, "garbage")
	require.NoError(t, os.WriteFile(garbage, []byte("curve\n    public-key = \"not z85\"\n"), 0o644))
	noSecret := filepath.Join(c.dir, "public-only.key")
	cert, err := curve.LoadCertificate(c.client)
	require.NoError(t, err)
	require.NoError(t, cert.SavePublic(noSecret))
	badPasswords := filepath.Join(c.dir, "passwords")
	require.NoError(t, os.WriteFile(badPasswords, []byte("# users\nalice=1\nbob\n"), 0o600))
	missing := filepath.Join(c.dir, "missing")

	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"server key neither file nor Z85", []string{"-curve-server-key", "short", "PUSH", "tcp://127.0.0.1:1"},
			[]string{"-curve-server-key", `"short" is neither a certificate file nor a Z85 public key`}},
		{"server key file not a certificate", []string{"-curve-server-key", garbage, "PUSH", "tcp://127.0.0.1:1"},
			[]string{"-curve-server-key", garbage, "public-key"}},
		{"client cert missing", []string{"-curve-server-key", c.serverKey.String(), "-curve-cert", missing, "PUSH", "tcp://127.0.0.1:1"},
			[]string{"-curve-cert", missing, "no such file"}},
		{"client cert without secret", []string{"-curve-server-key", c.serverKey.String(), "-curve-cert", noSecret, "PUSH", "tcp://127.0.0.1:1"},
			[]string{"-curve-cert", noSecret + " is a public certificate", "the secret key is needed"}},
		{"server cert without secret", []string{"-curve-server", noSecret, "PULL", "@tcp://127.0.0.1:0"},
			[]string{"-curve-server", "the secret key is needed"}},
		{"server cert not a certificate", []string{"-curve-server", garbage, "PULL", "@tcp://127.0.0.1:0"},
			[]string{"-curve-server", "invalid CURVE certificate"}},
		{"allow directory missing", []string{"-curve-server", c.server, "-curve-allow", missing, "PULL", "@tcp://127.0.0.1:0"},
			[]string{"-curve-allow", missing}},
		{"password file malformed", []string{"-plain-passwords", badPasswords, "PULL", "@tcp://127.0.0.1:0"},
			[]string{"-plain-passwords", badPasswords + ":3: want user=password"}},
		{"password file missing", []string{"-plain-passwords", missing, "PULL", "@tcp://127.0.0.1:0"},
			[]string{"-plain-passwords", missing}},
		{"plain user too long", []string{"-plain-user", strings.Repeat("u", 256), "PUSH", "tcp://127.0.0.1:1"},
			[]string{"at most 255 bytes"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runMain(t, ctx, "", tc.args...)
			assert.Equal(t, exitUsage, r.code, r.stderr)
			for _, w := range tc.want {
				assert.Contains(t, r.stderr, w)
			}
			assert.NotContains(t, r.stderr, "listening on", "no socket was opened")
		})
	}
}

func TestKeygen(t *testing.T) {
	ctx := testCtx(t)
	path := filepath.Join(t.TempDir(), "me.key")
	r := runMain(t, ctx, "", "-keygen", path)
	require.Equal(t, exitOK, r.code, r.stderr)
	pub, err := curve.ParseKey(strings.TrimSpace(r.stdout))
	require.NoError(t, err, "stdout is the public key")
	c, err := curve.LoadCertificate(path)
	require.NoError(t, err)
	assert.Equal(t, pub, c.Public)
	assert.True(t, c.HasSecret(), "the secret certificate was written next to it")
	st, err := os.Stat(path + curve.SecretSuffix)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())

	r = runMain(t, ctx, "", "-keygen", path)
	assert.Equal(t, exitError, r.code)
	assert.Contains(t, r.stderr, "already exists")
	again, err := curve.LoadCertificate(path)
	require.NoError(t, err)
	assert.Equal(t, c.Secret, again.Secret, "the existing certificate is untouched")
}

// Two brookcat processes over tcp with CURVE: the client's key is on the
// server's allow-list; the server's JSON output shows it as the user.
// The server key is given as Z85 text, then as a certificate file.
func TestCurveRoundTrip(t *testing.T) {
	c := newCerts(t)
	for name, serverKey := range map[string]string{"z85": c.serverKey.String(), "certificate file": c.server} {
		t.Run(name, func(t *testing.T) {
			srv := startCat(t, nil, nil, "-n", "2", "-out", "json", "-curve-server", c.server, "-curve-allow", c.allow, "PULL", "@tcp://127.0.0.1:0")
			ep := srv.endpoint()
			cli := startCat(t, strings.NewReader("hello\tworld\nbye\n"), nil, "-curve-server-key", serverKey, "-curve-cert", c.client, "PUSH", ep)
			assert.Equal(t, exitOK, cli.wait(), cli.stderr.String())
			assert.Contains(t, cli.stderr.String(), "CURVE client, public key "+c.clientKey.String())
			require.Equal(t, exitOK, srv.wait(), srv.stderr.String())
			assert.Contains(t, srv.stderr.String(), "CURVE server, public key "+c.serverKey.String()+"; clients admitted from "+c.allow)
			msgs := jsonLines(t, srv.stdout.String())
			require.Len(t, msgs, 2)
			assert.Equal(t, []any{"hello", "world"}, msgs[0].Frames)
			assert.Equal(t, []any{"bye"}, msgs[1].Frames)
			for _, m := range msgs {
				assert.Equal(t, c.clientKey.String(), m.User)
			}
		})
	}
}

// Without -curve-allow any client key is admitted, an ephemeral one
// included, and brookcat says so; REQ/REP round trip.
func TestCurveAnyClient(t *testing.T) {
	c := newCerts(t)
	srv := startCat(t, nil, nil, "-echo", "-n", "1", "-curve-server", c.server, "REP", "@tcp://127.0.0.1:0")
	ep := srv.endpoint()
	cli := startCat(t, strings.NewReader("ping\n"), nil, "-curve-server-key", c.serverKey.String(), "REQ", ep)
	assert.Equal(t, exitOK, cli.wait(), cli.stderr.String())
	assert.Equal(t, "ping\n", cli.stdout.String())
	assert.Contains(t, cli.stderr.String(), "CURVE client with a key pair made for this run")
	assert.Equal(t, exitOK, srv.wait(), srv.stderr.String())
	assert.Contains(t, srv.stderr.String(), "any client key is admitted (no -curve-allow)")
}

// Refusals end the client by themselves (no -timeout), exit 1, saying
// why; the server notes whom it refused and keeps running.
func TestCurveRefused(t *testing.T) {
	c := newCerts(t)
	srv := startCat(t, nil, nil, "-curve-server", c.server, "-curve-allow", c.allow, "PULL", "@tcp://127.0.0.1:0")
	ep := srv.endpoint()

	t.Run("wrong server key", func(t *testing.T) {
		// The client's own key as the server's: the server cannot open HELLO.
		cli := startCat(t, strings.NewReader("x\n"), nil, "-wait-peers", "1", "-curve-server-key", c.clientKey.String(), "-curve-cert", c.client, "PUSH", ep)
		assert.Equal(t, exitError, cli.wait())
		assert.Contains(t, cli.stderr.String(), "brookcat: handshake refused by "+ep)
		assert.Contains(t, cli.stderr.String(), "another server key")
	})
	t.Run("client not on the allow-list", func(t *testing.T) {
		cli := startCat(t, strings.NewReader("x\n"), nil, "-wait-peers", "1", "-curve-server-key", c.serverKey.String(), "PUSH", ep)
		assert.Equal(t, exitError, cli.wait())
		assert.Contains(t, cli.stderr.String(), "brookcat: handshake refused by "+ep)
		assert.Contains(t, cli.stderr.String(), "authentication failed")
	})
	t.Run("NULL client", func(t *testing.T) {
		cli := startCat(t, strings.NewReader("x\n"), nil, "-wait-peers", "1", "PUSH", ep)
		assert.Equal(t, exitError, cli.wait())
		assert.Contains(t, cli.stderr.String(), "brookcat: handshake refused by "+ep)
		assert.Contains(t, cli.stderr.String(), "mechanism")
	})

	// A client on the list still gets through: the server kept running.
	cli := startCat(t, strings.NewReader("still here\n"), nil, "-curve-server-key", c.serverKey.String(), "-curve-cert", c.client, "PUSH", ep)
	assert.Equal(t, exitOK, cli.wait(), cli.stderr.String())
	require.Eventually(t, func() bool { return srv.stdout.String() == "still here\n" }, 30*time.Second, 10*time.Millisecond)
	require.NoError(t, srv.cmd.Process.Signal(os.Interrupt))
	assert.Equal(t, exitOK, srv.wait())
	s := srv.stderr.String()
	assert.Contains(t, s, "brookcat: refused a peer from tcp://")
	assert.Contains(t, s, "another server key")
	assert.Contains(t, s, "unknown CURVE key")
}

func TestPlain(t *testing.T) {
	passwords := filepath.Join(t.TempDir(), "passwords")
	require.NoError(t, os.WriteFile(passwords, []byte("# who may send\nbob = builder\n\n"), 0o600))
	srv := startCat(t, nil, nil, "-out", "json", "-plain-allow", "alice=s3cret", "-plain-passwords", passwords, "PULL", "@tcp://127.0.0.1:0")
	ep := srv.endpoint()

	bad := startCat(t, strings.NewReader("no\n"), nil, "-wait-peers", "1", "-plain-user", "alice", "-plain-password", "wrong", "PUSH", ep)
	assert.Equal(t, exitError, bad.wait())
	assert.Contains(t, bad.stderr.String(), "brookcat: handshake refused by "+ep)
	assert.Contains(t, bad.stderr.String(), "authentication failed")

	alice := startCat(t, strings.NewReader("from alice\n"), nil, "-plain-user", "alice", "-plain-password", "s3cret", "PUSH", ep)
	assert.Equal(t, exitOK, alice.wait(), alice.stderr.String())
	bob := startCat(t, strings.NewReader("from bob\n"), nil, "-plain-user", "bob", "-plain-password", "builder", "PUSH", ep)
	assert.Equal(t, exitOK, bob.wait(), bob.stderr.String())

	require.Eventually(t, func() bool { return strings.Count(srv.stdout.String(), "\n") == 2 }, 30*time.Second, 10*time.Millisecond)
	require.NoError(t, srv.cmd.Process.Signal(os.Interrupt))
	assert.Equal(t, exitOK, srv.wait())
	msgs := jsonLines(t, srv.stdout.String())
	assert.Equal(t, []jsonMsg{{Frames: []any{"from alice"}, User: "alice"}, {Frames: []any{"from bob"}, User: "bob"}}, msgs)
	assert.Contains(t, srv.stderr.String(), "brookcat: refused a peer from tcp://")
	assert.Contains(t, srv.stderr.String(), "invalid user name or password")
}

// Security flags on inproc say that inproc is not secured.
func TestSecurityInprocNote(t *testing.T) {
	ctx := testCtx(t)
	r := runMain(t, ctx, "", "-timeout", "10ms", "-plain-allow", "a=b", "PULL", "@inproc://cat-sec-note")
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stderr, "inproc://cat-sec-note is not secured")
}
