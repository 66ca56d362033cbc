package durable

import (
	"crypto/rand"
	"fmt"
	"io/fs"
	"math"
)

// loadMeta reads META, creates it for a new journal, or (RepairTruncate)
// rewrites a missing or damaged one from the first segment header.
func (l *Log) loadMeta(ls dirListing) error {
	if ls.meta {
		b, err := readWhole(l.fs, l.path(metaName), 4096)
		if err != nil {
			return err
		}
		m, derr := decodeMeta(b)
		if derr == nil {
			l.meta = m
			return nil
		}
		if err := checkVersion(derr, l.path(metaName)); err != nil {
			return err // never repaired: another brook's journal
		}
		if l.opts.repair == RepairNone || len(ls.bases) == 0 {
			return &CorruptError{File: metaName, Reason: derr.Error()}
		}
	} else if len(ls.bases) == 0 {
		if l.ro {
			return fmt.Errorf("brook: no journal in %s: %w", l.dir, fs.ErrNotExist)
		}
		m := metaInfo{created: l.opts.now().UnixNano(), epochs: []Epoch{{N: 1, Start: 0}}, dropped: math.MaxUint64}
		if _, err := rand.Read(m.id[:]); err != nil {
			return err
		}
		l.meta = m
		l.fresh = true
		return writeAtomic(l.fs, l.path(metaName), encodeMeta(m), false)
	} else if l.opts.repair == RepairNone {
		return &CorruptError{File: metaName, Reason: "missing while segments exist"}
	}
	// Repair: take the journal id from the first segment's header.
	f, err := l.fs.OpenFile(l.path(segName(ls.bases[0])), osRDONLY, 0)
	if err != nil {
		return err
	}
	hdr := make([]byte, segHdrSize)
	_, rerr := f.ReadAt(hdr, 0)
	_ = f.Close()
	_, id, created, herr := decodeSegHeader(hdr)
	if rerr != nil || herr != nil {
		return &CorruptError{File: metaName, Reason: "unreadable, and the first segment header too"}
	}
	// The epoch history is lost with META: number the epoch from the clock
	// so it is above every number the journal used before, and record that
	// nothing is known to be stable across the earlier ones.
	l.meta = metaInfo{id: id, created: created, epochs: []Epoch{{N: max(1, uint64(l.opts.now().UnixNano())), Start: 0}}}
	l.recovery.Repaired = &CorruptError{File: metaName, Reason: "rewritten from the first segment header"}
	if l.ro {
		return nil
	}
	return writeAtomic(l.fs, l.path(metaName), encodeMeta(l.meta), false)
}

// readClean reads the clean-shutdown marker: nil if there is none, an error
// if the file exists but cannot be read or fails its checks (a crash cannot
// leave a damaged marker: it is written atomically).
func (l *Log) readClean(ls dirListing) (*cleanInfo, error) {
	if !ls.clean {
		return nil, nil
	}
	b, err := readWhole(l.fs, l.path(cleanName), 4096)
	if err != nil {
		if isNotExist(err) {
			return nil, nil
		}
		return nil, err
	}
	c, err := decodeClean(b)
	if err != nil {
		return nil, &CorruptError{File: cleanName, Reason: err.Error()}
	}
	return &c, nil
}
