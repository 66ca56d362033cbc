package durable

// chunk is a run of encoded records bound for one segment; a segment's
// records in a batch may take several chunks, written in their order.
type chunk struct {
	seg *segment
	// create is set on the first chunk of a segment that does not exist on
	// disk yet: the writer seals the previous segment and creates this one.
	create bool
	buf    []byte
}

// batch is the set of records encoded by appenders and not yet taken by the
// writer goroutine. Appenders build one batch while the writer writes and
// syncs the previous one.
type batch struct {
	chunks []chunk
	end    uint64 // offset after the batch's last record
	n      int    // records
}

// maxKeptBuffer bounds the buffer a batch keeps for reuse.
const maxKeptBuffer = 8 << 20

// A batch's chunks of one segment start at minChunk bytes and double, one
// chunk after another, up to maxChunk (or one record's size).
const (
	minChunk = 64 << 10
	maxChunk = 1 << 20
)

func (b *batch) empty() bool { return b.n == 0 }

// room returns the buffer to encode the next record, size bytes, for seg
// into: the last chunk's if it is seg's and has the room, else a new
// chunk's, twice the size of the chunk before it. A batch that grows
// under load (megabytes while the writer syncs the one before) so gains
// chunks and is never copied: growing one buffer by doubling copied all
// it held each time into fresh memory, on the appenders' path, until the
// batch's buffers had grown to size. reset keeps the chunks' buffers, so
// the batches after it reuse them.
func (b *batch) room(seg *segment, create bool, size int) *[]byte {
	k := len(b.chunks)
	want := minChunk
	if k > 0 {
		last := &b.chunks[k-1]
		if last.seg == seg {
			if cap(last.buf)-len(last.buf) >= size {
				return &last.buf
			}
			create = false // seg's first chunk was created already
		}
		want = min(max(2*cap(last.buf), minChunk), maxChunk)
	}
	want = max(want, size)
	if k < cap(b.chunks) {
		b.chunks = b.chunks[:k+1]
	} else {
		b.chunks = append(b.chunks, chunk{})
	}
	c := &b.chunks[k]
	c.seg, c.create = seg, create
	if cap(c.buf) < want {
		c.buf = make([]byte, 0, want)
	} else {
		c.buf = c.buf[:0]
	}
	return &c.buf
}

func (b *batch) reset() {
	for i := range b.chunks {
		b.chunks[i].seg = nil
		if cap(b.chunks[i].buf) > maxKeptBuffer {
			b.chunks[i].buf = nil
		}
		b.chunks[i].buf = b.chunks[i].buf[:0]
	}
	b.chunks = b.chunks[:0]
	b.n = 0
}
