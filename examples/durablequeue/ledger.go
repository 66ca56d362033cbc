package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// key names a message: the producer incarnation that sent it and its
// number there ("K/I" on the wire).
type key struct{ inc, seq int }

func parseKey(s string) (key, error) {
	a, b, ok := strings.Cut(s, "/")
	inc, err1 := strconv.Atoi(a)
	seq, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil {
		return key{}, fmt.Errorf("malformed message %q", s)
	}
	return key{inc, seq}, nil
}

// ledger is the coordinator's account of every message: which sends
// succeeded, and which worker processed and acknowledged what.
//
// Lines of one worker slot are handled in the order that worker printed
// them (the coordinator reads all of a killed worker's output before it
// starts the next), so "acknowledged here, then passed to this worker's
// application again" is exact. Across slots the order is the order the
// coordinator read the lines in.
type ledger struct {
	confirmed  map[key]bool
	nConfirmed int
	gots       map[key]int
	ackedBy    map[key][]int
	deliveries int

	// Deliveries of a message the application had seen before, by cause.
	sameWorker  int // its worker had acknowledged it: the dedup store failed
	otherWorker int // another worker had acknowledged it
	beforeAck   int // nobody had acknowledged it yet
}

func newLedger() *ledger {
	return &ledger{confirmed: map[key]bool{}, gots: map[key]int{}, ackedBy: map[key][]int{}}
}

// confirm records that the sends of inc/lo .. inc/hi-1 succeeded.
func (l *ledger) confirm(inc, lo, hi int) error {
	for seq := lo; seq < hi; seq++ {
		k := key{inc, seq}
		if l.confirmed[k] {
			return fmt.Errorf("producer#%d reported %d/%d durable twice", inc, inc, seq)
		}
		l.confirmed[k] = true
		l.nConfirmed++
	}
	return nil
}

// got records that slot's application processed k.
func (l *ledger) got(slot int, k key) {
	l.deliveries++
	n := l.gots[k]
	l.gots[k] = n + 1
	if n == 0 {
		return
	}
	switch acked := l.ackedBy[k]; {
	case slices.Contains(acked, slot):
		l.sameWorker++
	case len(acked) > 0:
		l.otherWorker++
	default:
		l.beforeAck++
	}
}

// ack records that slot's acknowledgement of k is durable in its dedup
// store.
func (l *ledger) ack(slot int, k key) error {
	if l.gots[k] == 0 {
		return fmt.Errorf("worker %d acknowledged %d/%d, which it never processed", slot, k.inc, k.seq)
	}
	if !slices.Contains(l.ackedBy[k], slot) {
		l.ackedBy[k] = append(l.ackedBy[k], slot)
	}
	return nil
}

// missing lists the confirmed messages never processed, up to limit,
// and counts them.
func (l *ledger) missing(limit int) (ks []key, n int) {
	for k := range l.confirmed {
		if l.gots[k] == 0 {
			n++
			if len(ks) < limit {
				ks = append(ks, k)
			}
		}
	}
	return ks, n
}

// unconfirmedReceived counts the distinct messages processed whose send
// never reported success (journaled by a producer killed before it could
// say so).
func (l *ledger) unconfirmedReceived() int {
	n := 0
	for k := range l.gots {
		if !l.confirmed[k] {
			n++
		}
	}
	return n
}

func formatKeys(ks []key) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = fmt.Sprintf("%d/%d", k.inc, k.seq)
	}
	return strings.Join(s, " ")
}
