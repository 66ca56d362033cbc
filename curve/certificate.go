package curve

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// SecretSuffix is appended to a certificate's path to name its secret
// certificate (CZMQ: name and name_secret; pyzmq: name.key and
// name.key_secret).
const SecretSuffix = "_secret"

// Certificate is a CURVE key with metadata, as stored in a certificate
// file. A public certificate has a zero Secret. Printing a Certificate
// never shows the secret key.
type Certificate struct {
	Public Key
	Secret Key
	// Metadata is the "metadata" section: free-form name = value pairs
	// (CZMQ writes name, email, organization, ...).
	Metadata map[string]string
}

// NewCertificate generates a certificate with a fresh key pair.
func NewCertificate(metadata map[string]string) (*Certificate, error) {
	kp, err := NewKeyPair()
	if err != nil {
		return nil, err
	}
	c := &Certificate{Public: kp.Public, Secret: kp.Secret}
	if len(metadata) > 0 {
		c.Metadata = make(map[string]string, len(metadata))
		for k, v := range metadata {
			c.Metadata[k] = v
		}
	}
	return c, nil
}

// KeyPair returns the certificate's key pair; its Secret is zero for a
// public certificate.
func (c *Certificate) KeyPair() KeyPair { return KeyPair{Public: c.Public, Secret: c.Secret} }

// HasSecret reports whether the certificate holds a secret key.
func (c *Certificate) HasSecret() bool { return !c.Secret.IsZero() }

// String shows the public key and metadata, never the secret key.
func (c *Certificate) String() string {
	return fmt.Sprintf("curve.Certificate{Public: %s, Secret: %v, Metadata: %v}", c.Public, c.HasSecret(), c.Metadata)
}

// ParseCertificate reads a certificate from the text of a certificate
// file. It needs a public key, a secret key, or both; given only the
// secret key it computes the public key, and given both it checks that
// they match.
func ParseCertificate(data []byte) (*Certificate, error) {
	if len(data) > maxCertificateSize {
		return nil, fmt.Errorf("%w: %d bytes, a certificate is at most %d", ErrCertificate, len(data), maxCertificateSize)
	}
	entries, err := parseZPL(data)
	if err != nil {
		return nil, err
	}
	c := &Certificate{}
	var havePublic, haveSecret bool
	for _, e := range entries {
		switch {
		case e.path == "curve/public-key":
			if c.Public, err = ParseKey(e.value); err != nil {
				return nil, fmt.Errorf("%w: line %d: public-key: %w", ErrCertificate, e.line, err)
			}
			havePublic = true
		case e.path == "curve/secret-key":
			if c.Secret, err = ParseKey(e.value); err != nil {
				return nil, fmt.Errorf("%w: line %d: secret-key: %w", ErrCertificate, e.line, err)
			}
			haveSecret = true
		case strings.HasPrefix(e.path, "metadata/"):
			if c.Metadata == nil {
				c.Metadata = make(map[string]string)
			}
			c.Metadata[strings.TrimPrefix(e.path, "metadata/")] = e.value
		}
	}
	switch {
	case haveSecret:
		kp := KeyPair{Secret: c.Secret}
		if havePublic {
			kp.Public = c.Public
		}
		if err := kp.Check(); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrCertificate, err)
		}
		c.Public = kp.Public
	case !havePublic:
		return nil, fmt.Errorf("%w: no curve public-key or secret-key", ErrCertificate)
	}
	return c, nil
}

// LoadCertificate reads a certificate file. When the file holds only a
// public key and a secret certificate exists next to it (path +
// SecretSuffix), the secret key is read from there too, as CZMQ's
// zcert_load does; a secret certificate is never required.
func LoadCertificate(path string) (*Certificate, error) {
	c, err := loadCertificateFile(path)
	if err != nil || c.HasSecret() {
		return c, err
	}
	sec, err := loadCertificateFile(path + SecretSuffix)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return c, nil
	case err != nil:
		return nil, err
	case !sec.Public.Equal(c.Public):
		return nil, fmt.Errorf("%w: %s holds the secret key of %s, not of %s", ErrCertificate, path+SecretSuffix, sec.Public, c.Public)
	}
	c.Secret = sec.Secret
	for k, v := range sec.Metadata {
		if _, ok := c.Metadata[k]; !ok {
			if c.Metadata == nil {
				c.Metadata = make(map[string]string)
			}
			c.Metadata[k] = v
		}
	}
	return c, nil
}

func loadCertificateFile(path string) (*Certificate, error) {
	data, err := readLimited(path)
	if err != nil {
		return nil, err
	}
	c, err := ParseCertificate(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// readLimited reads a file of at most maxCertificateSize bytes.
func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("brook: reading certificate: %w", err)
	}
	defer f.Close()
	buf := make([]byte, maxCertificateSize+1)
	n := 0
	for n < len(buf) {
		m, err := f.Read(buf[n:])
		n += m
		if err != nil {
			break
		}
	}
	if n > maxCertificateSize {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrCertificate, path, maxCertificateSize)
	}
	return buf[:n], nil
}

// Save writes the public certificate to path and, when the certificate
// has a secret key, the secret certificate to path + SecretSuffix with
// permissions 0600. Each file is written to a temporary file first and
// renamed into place, so a reader never sees half a certificate.
func (c *Certificate) Save(path string) error {
	if err := c.SavePublic(path); err != nil {
		return err
	}
	if !c.HasSecret() {
		return nil
	}
	return c.SaveSecret(path + SecretSuffix)
}

// SavePublic writes the public certificate (no secret key) to path.
func (c *Certificate) SavePublic(path string) error {
	text, err := c.encode(false)
	if err != nil {
		return err
	}
	return writeAtomic(path, text, 0o644)
}

// SaveSecret writes the secret certificate (public and secret key) to
// path, readable by its owner only.
func (c *Certificate) SaveSecret(path string) error {
	if !c.HasSecret() {
		return fmt.Errorf("%w: no secret key to save", ErrCertificate)
	}
	text, err := c.encode(true)
	if err != nil {
		return err
	}
	return writeAtomic(path, text, 0o600)
}

// encode renders the certificate as ZPL text.
func (c *Certificate) encode(secret bool) ([]byte, error) {
	var b strings.Builder
	kind := "Public"
	if secret {
		kind = "**Secret**"
	}
	fmt.Fprintf(&b, "#   Written by brook on %s\n", time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "#   ZeroMQ CURVE %s Certificate\n", kind)
	if secret {
		b.WriteString("#   Keep this file private: it holds the secret key.\n")
	} else {
		b.WriteString("#   Share it with the peers that must recognise this key.\n")
	}
	b.WriteString("\nmetadata\n")
	names := make([]string, 0, len(c.Metadata))
	for name := range c.Metadata {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		q, ok := zplQuote(c.Metadata[name])
		if !validZPLName(name) || !ok {
			return nil, fmt.Errorf("%w: metadata %q = %q cannot be written as ZPL", ErrCertificate, name, c.Metadata[name])
		}
		fmt.Fprintf(&b, "    %s = %s\n", name, q)
	}
	fmt.Fprintf(&b, "curve\n    public-key = \"%s\"\n", c.Public)
	if secret {
		fmt.Fprintf(&b, "    secret-key = \"%s\"\n", c.Secret)
	}
	return []byte(b.String()), nil
}

// writeAtomic writes data to a temporary file next to path, syncs it and
// renames it over path.
func writeAtomic(path string, data []byte, perm os.FileMode) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return fmt.Errorf("brook: writing certificate: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(perm); err != nil {
		_ = f.Close()
		return fmt.Errorf("brook: writing certificate: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return fmt.Errorf("brook: writing certificate: %w", err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("brook: writing certificate: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("brook: writing certificate: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("brook: writing certificate: %w", err)
	}
	return nil
}

// LoadPublicKeys reads every public certificate under dir, in
// subdirectories too, as CZMQ's certificate store does: every regular
// file whose name does not end in SecretSuffix. It returns the
// certificates by public key. Files that are not certificates are
// skipped and reported together in the error (matching ErrCertificate),
// next to the certificates that did load; a missing or unreadable
// directory is an error with no certificates.
func LoadPublicKeys(dir string) (map[Key]*Certificate, error) {
	certs := make(map[Key]*Certificate)
	var bad []error
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == dir {
				return err
			}
			bad = append(bad, err)
			return nil
		}
		if !d.Type().IsRegular() || strings.HasSuffix(d.Name(), SecretSuffix) {
			return nil
		}
		c, err := loadCertificateFile(path)
		if err != nil {
			bad = append(bad, err)
			return nil
		}
		c.Secret = Key{} // a store holds public keys only
		certs[c.Public] = c
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("brook: reading certificates in %s: %w", dir, err)
	}
	return certs, errors.Join(bad...)
}
