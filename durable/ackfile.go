package durable

import (
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
)

// ackFile is the content of a cursor or position file (see doc.go, "Cursor
// and position files").
type ackFile struct {
	gen   uint64 // incremented by every rewrite: the newest copy wins
	epoch uint64
	acks  ackSet
}

const (
	ackHdrSize   = 48
	ackRangeSize = 16
	// maxAckFileRanges bounds what a file may hold (WithMaxAckRanges' limit).
	maxAckFileRanges = 1 << 20
)

func encodeAckFile(f ackFile) []byte {
	b := make([]byte, ackHdrSize+ackRangeSize*len(f.acks.ranges))
	putHeader(b, cursorMagic)
	binary.LittleEndian.PutUint64(b[16:24], f.gen)
	binary.LittleEndian.PutUint64(b[24:32], f.acks.floor)
	binary.LittleEndian.PutUint64(b[32:40], f.epoch)
	binary.LittleEndian.PutUint32(b[40:44], uint32(len(f.acks.ranges)))
	p := b[ackHdrSize:]
	for _, r := range f.acks.ranges {
		binary.LittleEndian.PutUint64(p[0:8], r.lo)
		binary.LittleEndian.PutUint64(p[8:16], r.hi)
		p = p[ackRangeSize:]
	}
	sealCRC(b)
	return b
}

func decodeAckFile(b []byte) (ackFile, error) {
	if len(b) < ackHdrSize {
		return ackFile{}, fmt.Errorf("short")
	}
	if err := checkCRC(b, cursorMagic); err != nil {
		return ackFile{}, err
	}
	f := ackFile{
		gen:   binary.LittleEndian.Uint64(b[16:24]),
		acks:  ackSet{floor: binary.LittleEndian.Uint64(b[24:32])},
		epoch: binary.LittleEndian.Uint64(b[32:40]),
	}
	n := binary.LittleEndian.Uint32(b[40:44])
	if uint64(len(b)-ackHdrSize) != uint64(n)*ackRangeSize || binary.LittleEndian.Uint32(b[44:48]) != 0 {
		return ackFile{}, fmt.Errorf("range count %d does not match size", n)
	}
	f.acks.ranges = make([]ackRange, n)
	prev := f.acks.floor
	p := b[ackHdrSize:]
	for i := range f.acks.ranges {
		r := ackRange{binary.LittleEndian.Uint64(p[0:8]), binary.LittleEndian.Uint64(p[8:16])}
		if r.lo <= prev || r.hi <= r.lo {
			return ackFile{}, fmt.Errorf("range %d out of order", i)
		}
		f.acks.ranges[i], prev = r, r.hi
		p = p[ackRangeSize:]
	}
	return f, nil
}

// ackCopy says which copy of an ack file was loaded.
type ackCopy int

const (
	copyNone    ackCopy = iota // no valid copy
	copyCurrent                // <name>
	copyNewer                  // <name>.tmp, left by a rewrite interrupted after its fsync
	copyPrev                   // <name>.prev
)

// loadAckFile reads the newest valid copy of the ack file at path: of
// <path>.tmp (a rewrite interrupted between its fsync and its renames),
// <path> and <path>.prev, the valid one with the highest generation.
func loadAckFile(fsys FS, path string) (ackFile, ackCopy) {
	best, from := ackFile{}, copyNone
	for _, c := range []struct {
		suffix string
		copy   ackCopy
	}{{"", copyCurrent}, {tmpSuffix, copyNewer}, {prevSuffix, copyPrev}} {
		b, err := readWhole(fsys, path+c.suffix, ackHdrSize+ackRangeSize*maxAckFileRanges)
		if err != nil {
			continue
		}
		f, err := decodeAckFile(b)
		if err != nil {
			continue
		}
		if from == copyNone || f.gen > best.gen {
			best, from = f, c.copy
		}
	}
	return best, from
}

// writeAckFile replaces the ack file at path: <path>.tmp written and
// fsynced, <path> renamed to <path>.prev, <path>.tmp renamed to <path>. The
// caller fsyncs the directory (once for many files).
func writeAckFile(fsys FS, path string, f ackFile) error {
	tmp := path + tmpSuffix
	w, err := fsys.OpenFile(tmp, osWRONLY|osCREATE|osTRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := w.WriteAt(encodeAckFile(f), 0); err != nil {
		_ = w.Close()
		return err
	}
	if err := w.Sync(); err != nil {
		_ = w.Close()
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	if err := fsys.Rename(path, path+prevSuffix); err != nil && !isNotExist(err) {
		return err
	}
	return fsys.Rename(tmp, path)
}

// removeAckFiles removes every copy of the ack file at path and fsyncs its
// directory.
func removeAckFiles(fsys FS, path string) error {
	var first error
	for _, p := range []string{path, path + prevSuffix, path + tmpSuffix} {
		if err := fsys.Remove(p); err != nil && !isNotExist(err) && first == nil {
			first = err
		}
	}
	return errors.Join(first, fsys.SyncDir(filepath.Dir(path)))
}

// ackFileNames sorts the entries of a cursor or positions directory into the
// names of ack files (from <name>, <name>.tmp and <name>.prev, if valid) and
// the temporary files to delete once those are loaded.
func ackFileNames(entries []string, valid func(string) bool) (names, temps []string) {
	seen := map[string]bool{}
	for _, n := range entries {
		base := strings.TrimSuffix(strings.TrimSuffix(n, tmpSuffix), prevSuffix)
		if strings.HasSuffix(n, tmpSuffix) {
			temps = append(temps, n)
		}
		if valid(base) && !seen[base] {
			seen[base] = true
			names = append(names, base)
		}
	}
	return names, temps
}

// removeTemps deletes the temporary files temps of dir and fsyncs it.
func removeTemps(fsys FS, dir string, temps []string) error {
	if len(temps) == 0 {
		return nil
	}
	for _, n := range temps {
		if err := fsys.Remove(filepath.Join(dir, n)); err != nil && !isNotExist(err) {
			return err
		}
	}
	return fsys.SyncDir(dir)
}

// sortedNames returns the keys of m, sorted.
func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
