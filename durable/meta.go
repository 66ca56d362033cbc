package durable

import (
	"crypto/rand"
	"fmt"
	"io/fs"
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
		if l.opts.repair == RepairNone || len(ls.bases) == 0 {
			return &CorruptError{File: metaName, Reason: derr.Error()}
		}
	} else if len(ls.bases) == 0 {
		if l.ro {
			return fmt.Errorf("brook: no journal in %s: %w", l.dir, fs.ErrNotExist)
		}
		m := metaInfo{created: l.opts.now().UnixNano()}
		if _, err := rand.Read(m.id[:]); err != nil {
			return err
		}
		l.meta = m
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
	l.meta = metaInfo{id: id, created: created}
	l.recovery.Repaired = &CorruptError{File: metaName, Reason: "rewritten from the first segment header"}
	if l.ro {
		return nil
	}
	return writeAtomic(l.fs, l.path(metaName), encodeMeta(l.meta), false)
}

// readClean reads the clean-shutdown marker; ok reports that the file exists
// (its content may still be invalid, then the zero value is returned).
func (l *Log) readClean(ls dirListing) (cleanInfo, bool) {
	if !ls.clean {
		return cleanInfo{}, false
	}
	b, err := readWhole(l.fs, l.path(cleanName), 4096)
	if err != nil {
		return cleanInfo{}, true
	}
	c, err := decodeClean(b)
	if err != nil {
		return cleanInfo{}, true
	}
	return c, true
}
