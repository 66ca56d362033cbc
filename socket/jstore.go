package socket

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/brookmq/brook/durable"
	"github.com/brookmq/brook/socket/internal/jwire"
)

// setStore keeps, per remote journal id, a set of offsets (a floor and
// ranges above it) across restarts: a receiver's acknowledged offsets
// (WithDedupStore) or a subscriber's stream positions (WithPositionStore).
// It is a journal of its own: each commit appends one record per changed
// set, holding that set whole, and fsyncs them together (one group commit
// for all the acknowledgements of a round); opening replays the records,
// the last one of each set winning. When the records since the last
// compaction outnumber the sets four to one, they are all written again
// and the older segments left to retention.
//
//	record: version (1), journal id (16 bytes), floor (uvarint),
//	        range count (uvarint), ranges as (gap, length) uvarint pairs
type setStore struct {
	log *durable.Log
	cur *durable.Cursor

	mu      sync.Mutex
	sets    map[durable.JournalID]*storedSet
	dirty   map[durable.JournalID]bool
	written int // records since the last compaction
}

type storedSet struct {
	floor  uint64
	ranges []jwire.Range
}

const (
	storeVersion    = 1
	storeCursor     = "compacted"
	storeMaxRanges  = jwire.MaxRanges
	storeSegment    = 1 << 20
	storeMinCompact = 1024
)

// errStoreRecord means a store record does not decode.
var errStoreRecord = errors.New("brook: store record damaged")

// openSetStore opens (creating) the store in dir and replays it.
func openSetStore(dir string) (*setStore, error) {
	log, err := durable.Open(dir, durable.WithSegmentSize(storeSegment), durable.WithRetainConsumed())
	if err != nil {
		return nil, err
	}
	st := &setStore{log: log, sets: make(map[durable.JournalID]*storedSet), dirty: make(map[durable.JournalID]bool)}
	if err := st.replay(); err != nil {
		log.Close()
		return nil, err
	}
	return st, nil
}

func (st *setStore) replay() error {
	cur, err := st.log.Cursor(storeCursor)
	if err != nil {
		return err
	}
	st.cur = cur
	from := max(cur.Offset(), st.log.First())
	r := st.log.NewReader(from)
	defer r.Close()
	end := st.log.End()
	ctx := context.Background()
	for r.Offset() < end {
		rec, err := r.Next(ctx)
		if err != nil {
			return err
		}
		id, set, err := decodeStoreRecord(rec.Data)
		if err != nil {
			return fmt.Errorf("%w at offset %d: %w", errStoreRecord, rec.Offset, err)
		}
		st.sets[id] = set
		st.written++
	}
	return nil
}

// load returns the committed set of id, and whether there is one.
func (st *setStore) load(id durable.JournalID) (uint64, []jwire.Range, bool, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	set := st.sets[id]
	if set == nil {
		return 0, nil, false, nil
	}
	return set.floor, append([]jwire.Range(nil), set.ranges...), true, nil
}

// record notes id's set for the next commit. Beyond storeMaxRanges
// ranges the ones furthest from the floor are not kept: it returns how
// many were left out, for the caller to report.
func (st *setStore) record(id durable.JournalID, floor uint64, ranges []jwire.Range) int {
	left := 0
	if len(ranges) > storeMaxRanges {
		left = len(ranges) - storeMaxRanges
		ranges = ranges[:storeMaxRanges]
	}
	st.mu.Lock()
	st.sets[id] = &storedSet{floor: floor, ranges: append([]jwire.Range(nil), ranges...)}
	st.dirty[id] = true
	st.mu.Unlock()
	return left
}

// commit appends every changed set and waits until they are durable.
func (st *setStore) commit() error {
	st.mu.Lock()
	var recs [][]byte
	for id := range st.dirty {
		recs = append(recs, encodeStoreRecord(id, st.sets[id]))
	}
	clear(st.dirty)
	compact := st.written+len(recs) >= max(storeMinCompact, 4*len(st.sets))
	var base uint64
	if compact {
		recs = recs[:0]
		for id, set := range st.sets {
			recs = append(recs, encodeStoreRecord(id, set))
		}
		st.written = 0
	}
	st.written += len(recs)
	st.mu.Unlock()
	if len(recs) == 0 {
		return nil
	}
	ctx := context.Background()
	var last uint64
	for i, b := range recs {
		off, err := st.log.AppendAsync(ctx, b)
		if err != nil {
			return err
		}
		if i == 0 {
			base = off
		}
		last = off
	}
	if err := st.log.WaitDurable(ctx, last); err != nil {
		return err
	}
	if compact && base > 0 {
		// Every set is whole from base on: what came before may go.
		if err := st.cur.AckRange(0, base); err != nil {
			return err
		}
		if err := st.cur.Commit(); err != nil {
			return err
		}
		return st.log.EnforceRetention()
	}
	return nil
}

// close commits nothing more and closes the store's journal.
func (st *setStore) close() error { return st.log.Close() }

func encodeStoreRecord(id durable.JournalID, set *storedSet) []byte {
	b := make([]byte, 0, 1+16+2*binary.MaxVarintLen64+len(set.ranges)*4)
	b = append(b, storeVersion)
	b = append(b, id[:]...)
	b = binary.AppendUvarint(b, set.floor)
	return jwire.AppendRanges(b, set.ranges)
}

func decodeStoreRecord(b []byte) (durable.JournalID, *storedSet, error) {
	var id durable.JournalID
	if len(b) < 17 || b[0] != storeVersion {
		return id, nil, fmt.Errorf("record of %d bytes, version %d", len(b), firstByte(b))
	}
	copy(id[:], b[1:17])
	floor, n := binary.Uvarint(b[17:])
	if n <= 0 {
		return id, nil, errors.New("bad floor")
	}
	rs, err := jwire.ParseRanges(b[17+n:])
	if err != nil {
		return id, nil, err
	}
	return id, &storedSet{floor: floor, ranges: rs}, nil
}

func firstByte(b []byte) int {
	if len(b) == 0 {
		return -1
	}
	return int(b[0])
}

// openAckStore opens a receiver's dedup or position store.
func openAckStore(dir string) (ackStore, error) { return openSetStore(dir) }
