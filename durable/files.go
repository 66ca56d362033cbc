package durable

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"path/filepath"
	"strconv"
	"strings"
)

// File names inside a journal directory (see doc.go).
const (
	metaName    = "META"
	lockName    = "LOCK"
	cleanName   = "CLEAN"
	cursorDir   = "cursors"
	lostDir     = "lost"
	segSuffix   = ".log"
	idxSuffix   = ".idx"
	tmpSuffix   = ".tmp"
	prevSuffix  = ".prev"
	nameDigits  = 20
	metaHdrSize = 56
	metaEpoch   = 16
	segHdrSize  = 48
	cleanSize   = 48
	idxHdrSize  = 56
	idxEntSize  = 24
)

// Magic numbers: eight ASCII bytes at the start of each kind of file.
const (
	metaMagic   = "brookJNL"
	segMagic    = "brookSEG"
	cleanMagic  = "brookCLN"
	idxMagic    = "brookIDX"
	cursorMagic = "brookCUR"
	posMagic    = "brookPOS"
)

func segName(base uint64) string { return fmt.Sprintf("%020d%s", base, segSuffix) }
func idxName(base uint64) string { return fmt.Sprintf("%020d%s", base, idxSuffix) }

// parseBase parses a 20-digit segment or index file name.
func parseBase(name, suffix string) (uint64, bool) {
	stem, ok := strings.CutSuffix(name, suffix)
	if !ok || len(stem) != nameDigits {
		return 0, false
	}
	v, err := strconv.ParseUint(stem, 10, 64)
	return v, err == nil
}

// formatVersion is the format version of every file this package writes.
// Version 1 (before epochs and the record lag) is refused with a clear error.
const formatVersion = 2

// sealCRC stores at b[12:16] the CRC32C of b with that field excluded.
func sealCRC(b []byte) {
	c := crc32.Update(crc32.Checksum(b[:12], castagnoli), castagnoli, b[16:])
	binary.LittleEndian.PutUint32(b[12:16], c)
}

// checkCRC verifies a buffer sealed with sealCRC, its magic and version.
func checkCRC(b []byte, magic string) error {
	if len(b) < 16 || string(b[:8]) != magic {
		return fmt.Errorf("bad magic")
	}
	if v := binary.LittleEndian.Uint32(b[8:12]); v != formatVersion {
		return versionError(v)
	}
	c := crc32.Update(crc32.Checksum(b[:12], castagnoli), castagnoli, b[16:])
	if c != binary.LittleEndian.Uint32(b[12:16]) {
		return fmt.Errorf("checksum mismatch")
	}
	return nil
}

// versionError reports a file of another format version.
type versionError uint32

func (v versionError) Error() string {
	return fmt.Sprintf("format version %d (this brook reads version %d)", uint32(v), formatVersion)
}

// checkVersion turns a versionError from decoding the file name into an
// error matching ErrFormatVersion.
func checkVersion(err error, name string) error {
	var v versionError
	if errors.As(err, &v) {
		return fmt.Errorf("%w: %s has %v", ErrFormatVersion, name, v)
	}
	return nil
}

func putHeader(b []byte, magic string) {
	copy(b[:8], magic)
	binary.LittleEndian.PutUint32(b[8:12], formatVersion)
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// JournalID identifies a journal; it is written in META and every segment
// header, so a segment from another journal is detected.
type JournalID [16]byte

// String returns the id in hex.
func (id JournalID) String() string { return fmt.Sprintf("%x", id[:]) }

func encodeMeta(m metaInfo) []byte {
	b := make([]byte, metaHdrSize+metaEpoch*len(m.epochs))
	putHeader(b, metaMagic)
	copy(b[16:32], m.id[:])
	binary.LittleEndian.PutUint64(b[32:40], uint64(m.created))
	binary.LittleEndian.PutUint64(b[40:48], m.dropped)
	binary.LittleEndian.PutUint32(b[48:52], uint32(len(m.epochs)))
	p := b[metaHdrSize:]
	for _, e := range m.epochs {
		binary.LittleEndian.PutUint64(p[0:8], e.N)
		binary.LittleEndian.PutUint64(p[8:16], e.Start)
		p = p[metaEpoch:]
	}
	sealCRC(b)
	return b
}

func decodeMeta(b []byte) (metaInfo, error) {
	if len(b) < metaHdrSize {
		return metaInfo{}, fmt.Errorf("size %d", len(b))
	}
	if err := checkCRC(b, metaMagic); err != nil {
		return metaInfo{}, err
	}
	var m metaInfo
	copy(m.id[:], b[16:32])
	m.created = int64(binary.LittleEndian.Uint64(b[32:40]))
	m.dropped = binary.LittleEndian.Uint64(b[40:48])
	n := binary.LittleEndian.Uint32(b[48:52])
	if n == 0 || n > maxEpochs || len(b) != metaHdrSize+metaEpoch*int(n) || binary.LittleEndian.Uint32(b[52:56]) != 0 {
		return metaInfo{}, fmt.Errorf("epoch count %d does not match size %d", n, len(b))
	}
	p := b[metaHdrSize:]
	for i := range int(n) {
		e := Epoch{N: binary.LittleEndian.Uint64(p[0:8]), Start: binary.LittleEndian.Uint64(p[8:16])}
		if e.N == 0 || (i > 0 && e.N != m.epochs[i-1].N+1) {
			return metaInfo{}, fmt.Errorf("epoch %d out of sequence", e.N)
		}
		m.epochs = append(m.epochs, e)
		p = p[metaEpoch:]
	}
	return m, nil
}

func encodeSegHeader(base uint64, id JournalID, created int64) []byte {
	b := make([]byte, segHdrSize)
	putHeader(b, segMagic)
	binary.LittleEndian.PutUint64(b[16:24], base)
	copy(b[24:40], id[:])
	binary.LittleEndian.PutUint64(b[40:48], uint64(created))
	sealCRC(b)
	return b
}

func decodeSegHeader(b []byte) (base uint64, id JournalID, created int64, err error) {
	if len(b) < segHdrSize {
		return 0, id, 0, fmt.Errorf("segment header short")
	}
	b = b[:segHdrSize]
	if err := checkCRC(b, segMagic); err != nil {
		return 0, id, 0, fmt.Errorf("segment header: %v", err)
	}
	copy(id[:], b[24:40])
	return binary.LittleEndian.Uint64(b[16:24]), id, int64(binary.LittleEndian.Uint64(b[40:48])), nil
}

type cleanInfo struct {
	next      uint64
	firstBase uint64
	lastBase  uint64
	lastSize  int64
}

func encodeClean(c cleanInfo) []byte {
	b := make([]byte, cleanSize)
	putHeader(b, cleanMagic)
	binary.LittleEndian.PutUint64(b[16:24], c.next)
	binary.LittleEndian.PutUint64(b[24:32], c.firstBase)
	binary.LittleEndian.PutUint64(b[32:40], c.lastBase)
	binary.LittleEndian.PutUint64(b[40:48], uint64(c.lastSize))
	sealCRC(b)
	return b
}

func decodeClean(b []byte) (cleanInfo, error) {
	if len(b) != cleanSize {
		return cleanInfo{}, fmt.Errorf("size %d", len(b))
	}
	if err := checkCRC(b, cleanMagic); err != nil {
		return cleanInfo{}, err
	}
	return cleanInfo{
		next:      binary.LittleEndian.Uint64(b[16:24]),
		firstBase: binary.LittleEndian.Uint64(b[24:32]),
		lastBase:  binary.LittleEndian.Uint64(b[32:40]),
		lastSize:  int64(binary.LittleEndian.Uint64(b[40:48])),
	}, nil
}

// readWhole reads a small file completely, refusing files above limit.
func readWhole(fsys FS, name string, limit int64) ([]byte, error) {
	f, err := fsys.OpenFile(name, osRDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return nil, err
	}
	if size > limit {
		return nil, fmt.Errorf("%s: size %d above %d", filepath.Base(name), size, limit)
	}
	b := make([]byte, size)
	if _, err := f.ReadAt(b, 0); err != nil && int64(len(b)) != size {
		return nil, err
	}
	return b, nil
}

// writeAtomic replaces name with data: temp file, fsync, rename, fsync dir.
// When keepPrev is set the old file is first renamed to name+".prev".
func writeAtomic(fsys FS, name string, data []byte, keepPrev bool) error {
	tmp := name + tmpSuffix
	f, err := fsys.OpenFile(tmp, osWRONLY|osCREATE|osTRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteAt(data, 0); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if keepPrev {
		if err := fsys.Rename(name, name+prevSuffix); err != nil && !isNotExist(err) {
			return err
		}
	}
	if err := fsys.Rename(tmp, name); err != nil {
		return err
	}
	return fsys.SyncDir(filepath.Dir(name))
}

// mkdirDurable creates dir and its missing parents and fsyncs the parent of
// each directory it created, so that the new entries survive a power loss.
func mkdirDurable(fsys FS, dir string) error {
	var missing []string
	for p := filepath.Clean(dir); ; p = filepath.Dir(p) {
		if _, err := fsys.ReadDir(p); err == nil {
			break
		} else if !isNotExist(err) {
			return err
		}
		missing = append(missing, p)
		if filepath.Dir(p) == p {
			break
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if err := fsys.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for i := len(missing) - 1; i >= 0; i-- {
		if err := fsys.SyncDir(filepath.Dir(missing[i])); err != nil {
			return err
		}
	}
	return nil
}
