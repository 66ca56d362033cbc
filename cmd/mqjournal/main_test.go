package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/brookmq/brook/durable"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// mkJournal writes n records (and a multipart one) over several segments,
// with a cursor, and closes the journal.
func mkJournal(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	l, err := durable.Open(dir, durable.WithSegmentSize(4096))
	require.NoError(t, err)
	ctx := context.Background()
	for i := range n {
		_, err := l.Append(ctx, []byte(fmt.Sprintf("record %d %s", i, strings.Repeat("x", 100))))
		require.NoError(t, err)
	}
	_, err = l.AppendMsg(ctx, [][]byte{[]byte("topic"), []byte("body")})
	require.NoError(t, err)
	c, err := l.Cursor("readers")
	require.NoError(t, err)
	require.NoError(t, c.AckRange(0, uint64(min(10, n))))
	require.NoError(t, l.Close())
	return dir
}

func runT(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// lastSegment returns the path of the newest segment file.
func lastSegment(t *testing.T, dir string) string {
	t.Helper()
	segs, err := filepath.Glob(filepath.Join(dir, "*.log"))
	require.NoError(t, err)
	require.NotEmpty(t, segs)
	return segs[len(segs)-1]
}

func TestStat(t *testing.T) {
	dir := mkJournal(t, 100)
	code, out, _ := runT("stat", dir)
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "offsets   0 .. 101 (101 records)")
	assert.Contains(t, out, "cursor    readers  offset 10  ranges -")
	assert.Contains(t, out, "sealed")
	assert.Contains(t, out, "active")
}

func TestDump(t *testing.T) {
	dir := mkJournal(t, 30)
	code, out, _ := runT("dump", "-from", "28", "-preview", "9", dir)
	require.Equal(t, exitOK, code)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 3)
	assert.True(t, strings.HasPrefix(lines[0], "28\t"))
	assert.Contains(t, lines[0], `"record 28"...`)
	assert.Contains(t, lines[2], `2 frames: "topic" | "body"`)

	code, out, _ = runT("dump", "-n", "2", dir)
	require.Equal(t, exitOK, code)
	assert.Len(t, strings.Split(strings.TrimSpace(out), "\n"), 2)
}

func TestVerifyAndRepair(t *testing.T) {
	dir := mkJournal(t, 100)
	code, out, _ := runT("verify", dir)
	require.Equal(t, exitOK, code, out)
	assert.Contains(t, out, "verified  101 records")

	// A torn tail after a clean shutdown contradicts the clean-shutdown
	// marker: damage, which plain repair refuses and -truncate cuts.
	seg := lastSegment(t, dir)
	st, err := os.Stat(seg)
	require.NoError(t, err)
	require.NoError(t, os.Truncate(seg, st.Size()-3))
	code, out, _ = runT("verify", dir)
	assert.Equal(t, exitDamage, code)
	assert.Contains(t, out, "clean shutdown")
	code, _, errOut := runT("repair", dir)
	assert.Equal(t, exitDamage, code)
	assert.Contains(t, errOut, "-truncate")

	// A torn tail after a crash (no marker): verify reports it, repair cuts
	// it.
	require.NoError(t, os.Remove(filepath.Join(dir, "CLEAN")))
	code, out, _ = runT("verify", dir)
	assert.Equal(t, exitDamage, code)
	assert.Contains(t, out, "torn tail")
	code, out, _ = runT("repair", dir)
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "torn tail")
	code, _, _ = runT("verify", dir)
	assert.Equal(t, exitOK, code)

	// A bit flip in the middle of the first (sealed) segment.
	first := filepath.Join(dir, "00000000000000000000.log")
	b, err := os.ReadFile(first)
	require.NoError(t, err)
	b[48+32+5] ^= 0x20
	require.NoError(t, os.WriteFile(first, b, 0o644))
	code, out, _ = runT("verify", dir)
	assert.Equal(t, exitDamage, code)
	assert.Contains(t, out, "DAMAGED")
	assert.Contains(t, out, "offset 0")

	// Plain repair trusts the sealed segment's index, so its Open cuts
	// nothing, but its full scan reports the damage left in place (exit 1);
	// -truncate verifies everything and cuts at the damage.
	code, out, errOut = runT("repair", dir)
	assert.Equal(t, exitDamage, code)
	assert.NotContains(t, out, "nothing to repair")
	assert.Contains(t, out, "DAMAGED")
	assert.Contains(t, errOut, "-truncate")
	code, out, _ = runT("repair", "-truncate", dir)
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "cut at")
	assert.Contains(t, out, "kept")
	code, out, _ = runT("verify", dir)
	assert.Equal(t, exitOK, code, out)
	assert.Contains(t, out, "verified  0 records")

	// Without its index the damage is found by a plain Open, which refuses.
	dir = mkJournal(t, 100)
	first = filepath.Join(dir, "00000000000000000000.log")
	b, err = os.ReadFile(first)
	require.NoError(t, err)
	b[48+32+5] ^= 0x20
	require.NoError(t, os.WriteFile(first, b, 0o644))
	require.NoError(t, os.Remove(filepath.Join(dir, "00000000000000000000.idx")))
	code, _, errOut = runT("repair", dir)
	assert.Equal(t, exitDamage, code)
	assert.Contains(t, errOut, "-truncate")
}

func TestUsageErrors(t *testing.T) {
	code, _, _ := runT()
	assert.Equal(t, exitError, code)
	code, _, _ = runT("bogus", "x")
	assert.Equal(t, exitError, code)
	code, _, _ = runT("stat")
	assert.Equal(t, exitError, code)
	code, _, errOut := runT("stat", filepath.Join(t.TempDir(), "missing"))
	assert.Equal(t, exitError, code)
	assert.Contains(t, errOut, "no journal")
	code, out, _ := runT("help")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, out, "usage")
}

// A journal held by a writer can still be inspected, but not repaired.
func TestLockedJournal(t *testing.T) {
	dir := mkJournal(t, 5)
	l, err := durable.Open(dir)
	require.NoError(t, err)
	defer l.Close()
	code, _, _ := runT("stat", dir)
	assert.Equal(t, exitOK, code)
	code, _, errOut := runT("repair", dir)
	assert.Equal(t, exitError, code)
	assert.Contains(t, errOut, "locked")
}

func TestRepairSkip(t *testing.T) {
	dir := mkJournal(t, 100)
	first := filepath.Join(dir, "00000000000000000000.log")
	b, err := os.ReadFile(first)
	require.NoError(t, err)
	b[48+32+5] ^= 0x20 // payload of record 0
	require.NoError(t, os.WriteFile(first, b, 0o644))
	code, _, _ := runT("repair", "-skip", "-truncate", dir)
	assert.Equal(t, exitError, code)
	code, out, _ := runT("repair", "-skip", dir)
	require.Equal(t, exitOK, code, out)
	assert.Contains(t, out, "gap        offsets 0..0 replaced by a gap record")
	code, out, _ = runT("verify", dir)
	assert.Equal(t, exitOK, code, out)
	assert.Contains(t, out, "verified  100 records")
	assert.Contains(t, out, "gaps      1 offsets")
	code, out, _ = runT("dump", "-n", "2", dir)
	require.Equal(t, exitOK, code)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 2)
	assert.Contains(t, lines[0], "0..0\t(gap")
	assert.True(t, strings.HasPrefix(lines[1], "1\t"))
}

// verify's exit status for each kind of damage: 1 for damage (records,
// segment headers, chain, META, torn tail), 0 for what is only a cache (an
// index file), 2 for no journal at all.
func TestVerifyExitCodes(t *testing.T) {
	// target picks a file of the journal given its sorted segment names.
	type target func(dir string, segs []string) string
	seg := func(i int) target {
		return func(dir string, segs []string) string { return segs[(i+len(segs))%len(segs)] }
	}
	file := func(name string) target {
		return func(dir string, _ []string) string { return filepath.Join(dir, name) }
	}
	flip := func(tg target, at func(size int) int) func(t *testing.T, dir string, segs []string) {
		return func(t *testing.T, dir string, segs []string) {
			p := tg(dir, segs)
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			b[at(len(b))] ^= 0x08
			require.NoError(t, os.WriteFile(p, b, 0o644))
		}
	}
	remove := func(tg target) func(t *testing.T, dir string, segs []string) {
		return func(t *testing.T, dir string, segs []string) { require.NoError(t, os.Remove(tg(dir, segs))) }
	}
	at := func(i int) func(int) int { return func(int) int { return i } }
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, dir string, segs []string)
		code   int
		out    string
	}{
		{"intact", func(*testing.T, string, []string) {}, exitOK, "ok"},
		{"sealed-record", flip(seg(0), at(48+32+3)), exitDamage, "DAMAGED"},
		{"last-segment-record", flip(seg(-1), at(48+40)), exitDamage, "damage"},
		{"torn-tail", func(t *testing.T, dir string, segs []string) {
			require.NoError(t, os.Remove(filepath.Join(dir, "CLEAN")))
			st, err := os.Stat(segs[len(segs)-1])
			require.NoError(t, err)
			require.NoError(t, os.Truncate(segs[len(segs)-1], st.Size()-5))
		}, exitDamage, "torn tail"},
		{"cut-after-clean-shutdown", func(t *testing.T, dir string, segs []string) {
			st, err := os.Stat(segs[len(segs)-1])
			require.NoError(t, err)
			require.NoError(t, os.Truncate(segs[len(segs)-1], st.Size()-5))
		}, exitDamage, "clean shutdown"},
		{"segment-header", flip(seg(1), at(20)), exitDamage, "damage"},
		{"first-segment-header", flip(seg(0), at(20)), exitDamage, "corrupt"},
		{"missing-middle-segment", remove(seg(1)), exitDamage, "damage"},
		{"meta", flip(file("META"), at(20)), exitDamage, "corrupt"},
		{"missing-meta", remove(file("META")), exitDamage, "corrupt"},
		{"index-is-a-cache", flip(file("00000000000000000000.idx"), func(n int) int { return n - 3 }), exitOK, "ok"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := mkJournal(t, 100)
			segs, err := filepath.Glob(filepath.Join(dir, "*.log"))
			require.NoError(t, err)
			require.Greater(t, len(segs), 3)
			tc.damage(t, dir, segs)
			code, out, errOut := runT("verify", dir)
			assert.Equal(t, tc.code, code, "stdout %s stderr %s", out, errOut)
			assert.Contains(t, out+errOut, tc.out)
		})
	}
	code, _, _ := runT("verify", t.TempDir())
	assert.Equal(t, exitError, code, "an empty directory is no journal")
}

// Issue 11 item 3: after damage a read-only view cannot show, dump prints
// what it can, then says where and why it stopped and exits 1; stat reports
// the damage and exits 1 too.
func TestDumpAndStatReportDamage(t *testing.T) {
	dir := t.TempDir()
	l, err := durable.Open(dir, durable.WithSync(durable.None))
	require.NoError(t, err)
	ctx := context.Background()
	for i := range 20 {
		_, err := l.Append(ctx, []byte(fmt.Sprintf("record %d %s", i, strings.Repeat("x", 40))))
		require.NoError(t, err)
	}
	require.NoError(t, l.Sync())
	for i := 20; i < 30; i++ {
		_, err := l.Append(ctx, []byte(fmt.Sprintf("record %d %s", i, strings.Repeat("x", 40))))
		require.NoError(t, err)
	}
	require.NoError(t, l.Close())
	require.NoError(t, os.Remove(filepath.Join(dir, "CLEAN"))) // as after a crash

	// Flip a payload bit of record 5: records after it say it was fsynced.
	seg := lastSegment(t, dir)
	b, err := os.ReadFile(seg)
	require.NoError(t, err)
	recSize := 32 + (len("record 0 ")+40+7)/8*8
	b[48+5*recSize+40] ^= 0x01
	require.NoError(t, os.WriteFile(seg, b, 0o644))

	code, out, errOut := runT("dump", dir)
	assert.Equal(t, exitDamage, code, errOut)
	assert.Len(t, strings.Split(strings.TrimSpace(out), "\n"), 5, "the records before the damage")
	assert.Contains(t, errOut, "stopped at offset 5")
	assert.Contains(t, errOut, "corrupt")
	code, out, _ = runT("stat", dir)
	assert.Equal(t, exitDamage, code)
	assert.Contains(t, out, "damage")
	assert.Contains(t, out, "epoch     1 since offset 0")

	// A torn tail (cut in the middle of the last record) too.
	dir = mkJournal(t, 30)
	require.NoError(t, os.Remove(filepath.Join(dir, "CLEAN")))
	seg = lastSegment(t, dir)
	st, err := os.Stat(seg)
	require.NoError(t, err)
	require.NoError(t, os.Truncate(seg, st.Size()-9))
	code, _, errOut = runT("dump", dir)
	assert.Equal(t, exitDamage, code)
	assert.Contains(t, errOut, "torn tail")
	code, out, _ = runT("stat", dir)
	assert.Equal(t, exitDamage, code)
	assert.Contains(t, out, "torn tail")
}
