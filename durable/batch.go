package durable

// chunk is a run of encoded records bound for one segment.
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

func (b *batch) empty() bool { return b.n == 0 }

// tail returns the buffer to encode the next record for seg into.
func (b *batch) tail(seg *segment, create bool) *[]byte {
	if k := len(b.chunks); k > 0 && b.chunks[k-1].seg == seg {
		return &b.chunks[k-1].buf
	}
	if len(b.chunks) < cap(b.chunks) {
		b.chunks = b.chunks[:len(b.chunks)+1]
	} else {
		b.chunks = append(b.chunks, chunk{})
	}
	c := &b.chunks[len(b.chunks)-1]
	c.seg, c.create, c.buf = seg, create, c.buf[:0]
	return &c.buf
}

// reserve makes room for size more bytes in *buf, the buffer tail
// returned. It grows the buffer by doubling, but never past maxKeptBuffer
// when what it must hold fits: a buffer that outgrew maxKeptBuffer would be
// dropped at reset and grown again, copy by copy, in every large batch.
func reserve(buf *[]byte, size int) {
	n := len(*buf)
	if cap(*buf)-n >= size {
		return
	}
	want := max(2*cap(*buf), 64<<10)
	if n+size <= maxKeptBuffer {
		want = min(want, maxKeptBuffer)
	}
	want = max(want, n+size)
	grown := make([]byte, n, want)
	copy(grown, *buf)
	*buf = grown
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
