package durable

import (
	"time"

	"github.com/brookmq/brook/durable/internal/record"
)

// Record is one journal entry as returned by a Reader.
type Record struct {
	// Offset is the record's absolute offset.
	Offset uint64
	// Time is when the record was appended (non-decreasing along the log).
	Time time.Time
	// Data is the payload. For a multipart record it holds the encoded frames;
	// use Frames. The slice belongs to the caller.
	Data []byte

	multipart bool
}

// Multipart reports whether the record was appended with AppendMsg.
func (r Record) Multipart() bool { return r.multipart }

// Frames returns the frames of a multipart record, or the payload as a single
// frame for a plain record. The frames alias Data.
func (r Record) Frames() ([][]byte, error) {
	if !r.multipart {
		return [][]byte{r.Data}, nil
	}
	return record.DecodeFrames(r.Data)
}

// toRecord copies a decoded record out of the reader's buffer.
func toRecord(r record.Raw) Record {
	data := make([]byte, len(r.Payload))
	copy(data, r.Payload)
	return Record{
		Offset:    r.Offset,
		Time:      time.Unix(0, r.Time),
		Data:      data,
		multipart: r.Flags&record.FlagMultipart != 0,
	}
}
