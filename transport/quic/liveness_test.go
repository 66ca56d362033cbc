package quic

import (
	"bytes"
	"io"
	"os"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPrefaceBytes(t *testing.T) {
	p := preface()
	assert.Equal(t, []byte{0x4F, 0x4D, 0x51, 0x4C, 0x01, 0x00, 0x00, 0x00}, p[:])
	assert.NoError(t, checkPreface(p[:]))
	assert.Error(t, checkPreface(p[:7]))
}

func TestRecords(t *testing.T) {
	b := record{kind: recordPing, nonce: 0x0102030405060708}.append(nil)
	assert.Equal(t, []byte{1, 1, 2, 3, 4, 5, 6, 7, 8}, b)
	r, err := parseRecord(b)
	require.NoError(t, err)
	assert.Equal(t, record{kind: recordPing, nonce: 0x0102030405060708}, r)
	_, err = parseRecord([]byte{2, 0, 0, 0, 0, 0, 0, 0, 0})
	assert.NoError(t, err)
	for _, bad := range [][]byte{{0, 0, 0, 0, 0, 0, 0, 0, 0}, {3, 0, 0, 0, 0, 0, 0, 0, 0}, {1, 0}} {
		_, err := parseRecord(bad)
		assert.Error(t, err)
	}
}

// fakeStream feeds the liveness reader fixed bytes, then EOF, and records
// what the writer sends.
type fakeStream struct {
	r  io.Reader
	mu sync.Mutex
	w  bytes.Buffer
}

func (f *fakeStream) Read(p []byte) (int, error) { return f.r.Read(p) }
func (f *fakeStream) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.w.Write(p)
}
func (f *fakeStream) SetReadDeadline(time.Time) error  { return nil }
func (f *fakeStream) SetWriteDeadline(time.Time) error { return nil }

// runReader polls the liveness stream over in, as the ticker does, until
// the connection ends, and returns the close code it ended with and how
// many records it accepted.
func runReader(in []byte) (CloseCode, int64) {
	codes := make(chan CloseCode, 2)
	l := newLiveness(&fakeStream{r: bytes.NewReader(in)}, time.Hour, func(c CloseCode, _ string) {
		codes <- c
	})
	for l.poll() {
	}
	return <-codes, l.records.Load()
}

func TestLivenessReader(t *testing.T) {
	ping := record{kind: recordPing, nonce: 1}.append(nil)
	pong := record{kind: recordPong, nonce: 1}.append(nil)
	code, n := runReader(append(append([]byte{}, ping...), pong...))
	assert.Equal(t, CodeInvalidLiveness, code, "end of stream")
	assert.Equal(t, int64(2), n)
	code, n = runReader(append(append([]byte{}, ping...), 9, 0, 0, 0, 0, 0, 0, 0, 0))
	assert.Equal(t, CodeInvalidLiveness, code, "unknown type")
	assert.Equal(t, int64(1), n)
	code, n = runReader(ping[:5])
	assert.Equal(t, CodeInvalidLiveness, code, "torn record")
	assert.Equal(t, int64(0), n)
}

// FuzzLivenessStream feeds arbitrary bytes (after the preface) to the
// liveness reader: it must count exactly the leading valid records and
// then end the connection with code 2, never panic.
func FuzzLivenessStream(f *testing.F) {
	f.Add(record{kind: recordPing, nonce: 7}.append(nil))
	f.Add(append(record{kind: recordPong, nonce: 7}.append(nil), 1, 2, 3))
	f.Add([]byte{3, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, in []byte) {
		want := int64(0)
		for off := 0; off+recordLen <= len(in); off += recordLen {
			if _, err := parseRecord(in[off : off+recordLen]); err != nil {
				break
			}
			want++
		}
		code, n := runReader(in)
		if code != CodeInvalidLiveness || n != want {
			t.Fatalf("code %v after %d records, want code 2 after %d", code, n, want)
		}
	})
}

// FuzzPreface checks the preface parser accepts exactly one byte string.
func FuzzPreface(f *testing.F) {
	p := preface()
	f.Add(p[:])
	f.Add([]byte("OMQL\x02\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		err := checkPreface(b)
		if (err == nil) != bytes.Equal(b, p[:]) {
			t.Fatalf("checkPreface(% x) = %v", b, err)
		}
	})
}

// TestLivenessRecordsSplitAcrossReads: records arriving a byte at a time
// are put together across reads (and polls).
func TestLivenessRecordsSplitAcrossReads(t *testing.T) {
	in := append(record{kind: recordPing, nonce: 5}.append(nil), record{kind: recordPong, nonce: 6}.append(nil)...)
	f := &fakeStream{r: iotest.OneByteReader(bytes.NewReader(in))}
	codes := make(chan CloseCode, 2)
	l := newLiveness(f, time.Hour, func(c CloseCode, _ string) { codes <- c })
	for l.poll() {
	}
	assert.Equal(t, CodeInvalidLiveness, <-codes, "end of stream")
	assert.Equal(t, int64(2), l.records.Load())
	assert.Equal(t, record{kind: recordPong, nonce: 5}.append(nil), f.w.Bytes(), "the PING answered")
}

// countingReader counts the Reads it gets and has nothing to give until
// told: each Read past the end reports an expired deadline.
type countingReader struct {
	reads int
	data  []byte
}

func (c *countingReader) Read(p []byte) (int, error) {
	c.reads++
	if len(c.data) == 0 {
		return 0, os.ErrDeadlineExceeded
	}
	n := copy(p, c.data)
	c.data = c.data[n:]
	return n, nil
}

// TestPollReadsOnlyAfterPackets: a poll reads the stream only when the
// connection received packets since before the last read, and then finds
// the records they brought.
func TestPollReadsOnlyAfterPackets(t *testing.T) {
	cr := &countingReader{}
	f := &fakeStream{r: cr}
	var packets uint64 = 7
	l := newLiveness(f, time.Hour, func(c CloseCode, r string) { t.Errorf("failed with code %v: %s", c, r) })
	l.packets = func() uint64 { return packets }
	require.True(t, l.poll())
	assert.Equal(t, 1, cr.reads, "the first poll reads")
	require.True(t, l.poll())
	assert.Equal(t, 1, cr.reads, "no packet since: no read")
	packets++
	cr.data = record{kind: recordPing, nonce: 9}.append(nil)
	require.True(t, l.poll())
	assert.Equal(t, int64(1), l.records.Load())
	assert.Equal(t, record{kind: recordPong, nonce: 9}.append(nil), f.w.Bytes())
	reads := cr.reads
	require.True(t, l.poll())
	assert.Equal(t, reads, cr.reads)
}

// TestPollSlotsShared: polls fall due on multiples of pollEvery, whatever
// the time a connection asks.
func TestPollSlotsShared(t *testing.T) {
	base := time.Unix(1700000000, 0)
	for _, off := range []time.Duration{0, 1, pollEvery / 3, pollEvery - 1, 7*pollEvery + 5} {
		now := base.Add(off)
		d := untilPollSlot(now)
		assert.Greater(t, d, time.Duration(0), "offset %v", off)
		assert.LessOrEqual(t, d, pollEvery, "offset %v", off)
		assert.Zero(t, now.Add(d).UnixNano()%int64(pollEvery), "offset %v", off)
	}
}
