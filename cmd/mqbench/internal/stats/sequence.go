package stats

// Sequence tracks one stream's sequence numbers as they arrive and counts
// what is missing and what came late. A message whose number jumps ahead
// counts the skipped ones as lost; one that arrives after a later number
// counts as out of order and is taken back from the lost count (so a
// duplicate also counts as out of order). The zero value expects 0
// first. Not safe for concurrent use.
type Sequence struct {
	next       uint64
	received   uint64
	lost       uint64
	outOfOrder uint64
}

// Observe records the arrival of sequence number seq.
func (s *Sequence) Observe(seq uint64) {
	s.received++
	switch {
	case seq == s.next:
		s.next++
	case seq > s.next:
		s.lost += seq - s.next
		s.next = seq + 1
	default:
		s.outOfOrder++
		if s.lost > 0 {
			s.lost--
		}
	}
}

// End records that the stream sent sent messages in all: numbers never
// seen past the highest one are lost too.
func (s *Sequence) End(sent uint64) {
	if sent > s.next {
		s.lost += sent - s.next
		s.next = sent
	}
}

// Received is the number of messages observed.
func (s *Sequence) Received() uint64 { return s.received }

// Lost is the number of messages missing so far.
func (s *Sequence) Lost() uint64 { return s.lost }

// OutOfOrder is the number of messages that arrived after a later one.
func (s *Sequence) OutOfOrder() uint64 { return s.outOfOrder }
