package auth

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/brookmq/brook/curve"
)

// errNoCertificates is returned when a certificate directory cannot be
// read at all.
var errNoCertificates = errors.New("brook: auth: cannot read the certificate directory")

// rescanEvery bounds how often a certificate directory is checked for
// changes: at most once per interval, on a lookup.
const rescanEvery = time.Second

// certStore is a directory of public certificates, reread when it
// changes (its files' names, sizes or modification times).
type certStore struct {
	dir   string
	every time.Duration // how often lookups check for changes

	mu      sync.Mutex
	keys    map[curve.Key]map[string][]byte // key -> certificate metadata
	sig     string
	checked time.Time
}

func newCertStore(dir string) *certStore { return &certStore{dir: dir, every: rescanEvery} }

// signature summarises the directory's files, to notice changes.
func (s *certStore) signature() (string, error) {
	var sig []byte
	err := filepath.WalkDir(s.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil // a file removed while walking: the next scan sees it
		}
		sig = fmt.Appendf(sig, "%s\x00%d\x00%d\x00", path, info.Size(), info.ModTime().UnixNano())
		return nil
	})
	return string(sig), err
}

// load reads the directory; on success (even with some files skipped)
// s.keys is replaced. It returns what went wrong, if anything.
func (s *certStore) load() error {
	sig, err := s.signature()
	if err != nil {
		return fmt.Errorf("%w: %w", errNoCertificates, err)
	}
	certs, err := curve.LoadPublicKeys(s.dir)
	if certs == nil {
		return err
	}
	keys := make(map[curve.Key]map[string][]byte, len(certs))
	for k, c := range certs {
		var meta map[string][]byte
		if len(c.Metadata) > 0 {
			meta = make(map[string][]byte, len(c.Metadata))
			for name, v := range c.Metadata {
				meta[name] = []byte(v)
			}
		}
		keys[k] = meta
	}
	s.mu.Lock()
	s.keys, s.sig, s.checked = keys, sig, time.Now()
	s.mu.Unlock()
	return err
}

// lookup finds a key, rereading the directory first if it changed since
// the last check (at most once per rescanEvery).
func (s *certStore) lookup(key curve.Key, log *slog.Logger) (map[string][]byte, bool) {
	s.mu.Lock()
	stale := time.Since(s.checked) >= s.every
	if stale {
		s.checked = time.Now()
	}
	s.mu.Unlock()
	if stale {
		sig, err := s.signature()
		s.mu.Lock()
		changed := err == nil && sig != s.sig
		s.mu.Unlock()
		if changed {
			if err := s.load(); err != nil {
				log.Warn("brook auth: certificate directory", "dir", s.dir, "err", err)
			}
		} else if err != nil {
			log.Warn("brook auth: certificate directory", "dir", s.dir, "err", err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	meta, ok := s.keys[key]
	return meta, ok
}
