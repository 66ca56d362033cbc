package main

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/brookmq/brook/auth"
	"github.com/brookmq/brook/curve"
	"github.com/brookmq/brook/socket"
)

// secFlags are the security flags as given.
type secFlags struct {
	curveServerKey string    // -curve-server-key: CURVE client of this server key
	curveCert      string    // -curve-cert: the CURVE client's own certificate
	curveServer    string    // -curve-server: CURVE server with this certificate
	curveAllow     string    // -curve-allow: directory of admitted client certificates
	plainUser      string    // -plain-user: PLAIN client
	plainPassword  string    // -plain-password
	plainAllow     multiFlag // -plain-allow user=password: PLAIN server
	plainFile      string    // -plain-passwords: PLAIN server, users from a file
	keygen         string    // -keygen: write a certificate and exit
}

// security is what the security flags resolved to, with the files they
// name read: the socket option, and the role.
type security struct {
	// mechanism is "", "CURVE" or "PLAIN".
	mechanism string
	// server: the socket authenticates its peers, which have user ids.
	server bool
	// allowAny: a CURVE server without -curve-allow.
	allowAny bool
	// publicKey: the socket's own CURVE public key (server, or client).
	publicKey curve.Key
	// ephemeral: the CURVE client's key pair was made for this run.
	ephemeral bool
	opt       socket.Option
}

// check validates the combination of security flags, before any file is
// read. Errors match errUsage.
func (f *secFlags) check() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{errUsage}, a...)...)
	}
	curveClient := f.curveServerKey != "" || f.curveCert != ""
	curveServer := f.curveServer != "" || f.curveAllow != ""
	plainClient := f.plainUser != "" || f.plainPassword != ""
	plainServer := len(f.plainAllow) > 0 || f.plainFile != ""
	roles := 0
	for _, r := range []bool{curveClient, curveServer, plainClient, plainServer} {
		if r {
			roles++
		}
	}
	switch {
	case roles > 1:
		return bad("the security flags ask for more than one role: a socket is one of CURVE client (-curve-server-key, -curve-cert), CURVE server (-curve-server, -curve-allow), PLAIN client (-plain-user, -plain-password) or PLAIN server (-plain-allow, -plain-passwords)")
	case curveClient && f.curveServerKey == "":
		return bad("-curve-cert is a CURVE client's own certificate: give the server's public key with -curve-server-key (a CURVE server takes its certificate with -curve-server)")
	case curveServer && f.curveServer == "":
		return bad("-curve-allow needs -curve-server (the server's own certificate)")
	case plainClient && f.plainUser == "":
		return bad("-plain-password needs -plain-user")
	}
	for _, p := range f.plainAllow {
		if u, _, ok := strings.Cut(p, "="); !ok || u == "" {
			return bad("-plain-allow %q: want user=password", p)
		}
	}
	return nil
}

// load reads the keys and files the security flags name and returns the
// socket's security. Errors match errUsage and say which flag and file.
func (f *secFlags) load() (*security, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{errUsage}, a...)...)
	}
	switch {
	case f.curveServerKey != "":
		serverKey, err := parseServerKey(f.curveServerKey)
		if err != nil {
			return nil, bad("-curve-server-key: %v", err)
		}
		s := &security{mechanism: "CURVE"}
		var keys curve.KeyPair
		if f.curveCert != "" {
			c, err := loadSecretCert(f.curveCert)
			if err != nil {
				return nil, bad("-curve-cert: %v", err)
			}
			keys = c.KeyPair()
		} else if keys, err = curve.NewKeyPair(); err != nil {
			return nil, fmt.Errorf("generating a CURVE key pair: %w", err)
		} else {
			s.ephemeral = true
		}
		s.publicKey, s.opt = keys.Public, socket.WithCurveClient(serverKey, keys)
		return s, nil
	case f.curveServer != "":
		c, err := loadSecretCert(f.curveServer)
		if err != nil {
			return nil, bad("-curve-server: %v", err)
		}
		a := auth.New()
		s := &security{mechanism: "CURVE", server: true, publicKey: c.Public}
		if f.curveAllow == "" {
			a.AllowAnyCurve()
			s.allowAny = true
		} else if err := a.UseCertificateDir(f.curveAllow); err != nil {
			return nil, bad("-curve-allow: %v", err)
		}
		s.opt = socket.WithCurveServer(c.KeyPair(), a)
		return s, nil
	case f.plainUser != "":
		if len(f.plainUser) > 255 || len(f.plainPassword) > 255 {
			return nil, bad("-plain-user and -plain-password are at most 255 bytes each")
		}
		return &security{mechanism: "PLAIN", opt: socket.WithPlainClient(f.plainUser, f.plainPassword)}, nil
	case len(f.plainAllow) > 0 || f.plainFile != "":
		users := map[string]string{}
		if f.plainFile != "" {
			if err := readPasswords(f.plainFile, users); err != nil {
				return nil, bad("-plain-passwords: %v", err)
			}
		}
		for _, p := range f.plainAllow {
			u, pw, _ := strings.Cut(p, "=")
			users[u] = pw
		}
		a := auth.New()
		a.SetPasswords(users)
		return &security{mechanism: "PLAIN", server: true, opt: socket.WithPlainServer(a)}, nil
	}
	return &security{}, nil
}

// parseServerKey reads a server's public key: a certificate file when
// one exists at s, else a Z85 key.
func parseServerKey(s string) (curve.Key, error) {
	if _, err := os.Stat(s); err == nil {
		c, err := curve.LoadCertificate(s)
		if err != nil {
			return curve.Key{}, err
		}
		return c.Public, nil
	}
	k, err := curve.ParseKey(s)
	if err != nil {
		return curve.Key{}, fmt.Errorf("%q is neither a certificate file nor a Z85 public key (40 characters): %w", s, err)
	}
	return k, nil
}

// loadSecretCert reads a certificate that must hold a secret key: the
// file itself, or the file with "_secret" appended next to it.
func loadSecretCert(path string) (*curve.Certificate, error) {
	c, err := curve.LoadCertificate(path)
	if err != nil {
		return nil, err
	}
	if !c.HasSecret() {
		return nil, fmt.Errorf("%s is a public certificate and %s does not exist: the secret key is needed here", path, path+curve.SecretSuffix)
	}
	return c, nil
}

// readPasswords reads user=password lines into users (spaces around
// the name and the password are not part of them); blank lines and lines
// starting with # are skipped.
func readPasswords(path string, users map[string]string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		u, p, ok := strings.Cut(line, "=")
		if u = strings.TrimSpace(u); !ok || u == "" {
			return fmt.Errorf("%s:%d: want user=password", path, n)
		}
		users[u] = strings.TrimSpace(p)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if len(users) == 0 {
		return fmt.Errorf("%s: no user=password line", path)
	}
	return nil
}

// errExists: -keygen does not overwrite a certificate.
var errExists = errors.New("already exists: brookcat -keygen does not overwrite certificates")

// keygen writes a new certificate to path and path_secret and prints
// its public key.
func keygen(path string) (curve.Key, error) {
	for _, p := range []string{path, path + curve.SecretSuffix} {
		if _, err := os.Lstat(p); err == nil {
			return curve.Key{}, fmt.Errorf("%s %w", p, errExists)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return curve.Key{}, err
		}
	}
	c, err := curve.NewCertificate(map[string]string{"created-by": "brookcat"})
	if err != nil {
		return curve.Key{}, err
	}
	if err := c.Save(path); err != nil {
		return curve.Key{}, err
	}
	return c.Public, nil
}
