package socket

import "time"

// Start says where a resuming SUB or XSUB starts reading a journaled
// publisher's stream when it has no position for that publisher yet (none
// in memory, none in its position store).
type Start struct {
	mode  byte
	value uint64
}

// StartLive starts with the next message published (ZeroMQ's behaviour).
func StartLive() Start { return Start{mode: startLive} }

// StartOldest starts with the oldest message the publisher retains.
func StartOldest() Start { return Start{mode: startOldest} }

// StartAt starts at the given offset of the publisher's journal.
func StartAt(offset uint64) Start { return Start{mode: startOffset, value: offset} }

// StartTime starts with the first message published at or after t.
func StartTime(t time.Time) Start { return Start{mode: startTime, value: uint64(t.UnixNano())} }

const (
	startLive   = 0
	startOldest = 1
	startOffset = 2
	startTime   = 3
)
