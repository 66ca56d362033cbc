package socket

import (
	"reflect"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/patterns"
)

// Slots are reused once released, a stale tag finds nothing (not the
// slot's next occupant), and a table emptied after a burst gives its
// memory back.
func TestDeliveriesSlots(t *testing.T) {
	var tb deliveries
	assert.Nil(t, tb.get(0))
	assert.Nil(t, tb.get(12345))
	a := tb.put(inDelivery{off: 1})
	b := tb.put(inDelivery{off: 2})
	require.NotEqual(t, a, b)
	require.NotZero(t, a)
	assert.EqualValues(t, 1, tb.get(a).off)
	assert.EqualValues(t, 2, tb.get(b).off)
	assert.Equal(t, 2, tb.used())
	tb.release(tb.get(a))
	assert.Nil(t, tb.get(a), "a released tag names nothing")
	c := tb.put(inDelivery{off: 3})
	assert.Equal(t, uint32(a), uint32(c), "the slot is reused")
	assert.Nil(t, tb.get(a), "the old tag does not find the new occupant")
	assert.EqualValues(t, 3, tb.get(c).off)

	// A burst: many chunks, all released, then given back.
	var tags []patterns.Tag
	for i := range (keepChunks + 2) * deliveryChunk {
		tags = append(tags, tb.put(inDelivery{off: uint64(i)}))
	}
	for i, tag := range tags {
		in := tb.get(tag)
		require.NotNil(t, in)
		require.EqualValues(t, i, in.off)
	}
	tb.release(tb.get(b))
	tb.release(tb.get(c))
	for _, tag := range tags {
		tb.release(tb.get(tag))
	}
	assert.Zero(t, tb.used())
	assert.Empty(t, tb.chunks, "an empty table beyond keepChunks is given back")
	for _, tag := range tags[:3] {
		assert.Nil(t, tb.get(tag))
	}
}

// A stream message costs its receiver no allocation between the reader
// and the application.
func TestDeliveriesNoAllocation(t *testing.T) {
	var tb deliveries
	tb.release(tb.get(tb.put(inDelivery{})))
	allocs := testing.AllocsPerRun(1000, func() {
		tag := tb.put(inDelivery{off: 7})
		tb.release(tb.get(tag))
	})
	assert.Zero(t, allocs)
}

// Goroutines taking records from one slab at once each get records of
// their own, zeroed, across chunk boundaries.
func TestRecordSlabHandsOutDistinctRecords(t *testing.T) {
	var s recordSlab
	const workers, each = 4, 5 * recordChunkLen
	got := make([][]*oneFrameRecord, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				r := s.get()
				assert.Equal(t, oneFrameRecord{}, *r)
				r.h[0] = byte(w + 1) // a write the race detector sees
				got[w] = append(got[w], r)
			}
		}()
	}
	wg.Wait()
	seen := make(map[*oneFrameRecord]bool)
	for _, rs := range got {
		for _, r := range rs {
			require.False(t, seen[r], "a record handed out twice")
			seen[r] = true
		}
	}
	assert.Len(t, seen, workers*each)
	assert.NotNil(t, (*recordSlab)(nil).get(), "no slab: an allocation")
}

// put copies every field of the delivery into its slot (it copies them
// one by one), and release leaves no pointer behind in the slot.
func TestDeliveriesPutCopiesEveryField(t *testing.T) {
	in := filledDelivery(t)
	var tb deliveries
	tag := tb.put(in)
	slot := tb.get(tag)
	require.NotNil(t, slot)
	want := in
	want.tag = tag
	assert.Equal(t, want, *slot)

	tb.release(slot)
	sv := reflect.ValueOf(slot).Elem()
	for i := range sv.NumField() {
		if f := sv.Field(i); f.Kind() == reflect.Pointer {
			assert.True(t, f.IsNil(), "field %s cleared", sv.Type().Field(i).Name)
		}
	}
}

// take hands out a slot with its tag set and nothing left of its last
// occupant.
func TestDeliveriesTakeClearsTheSlot(t *testing.T) {
	var tb deliveries
	in := filledDelivery(t)
	tb.release(tb.get(tb.put(in)))
	slot, tag := tb.take()
	require.NotZero(t, tag)
	assert.Same(t, slot, tb.get(tag), "the same slot, reused")
	assert.Equal(t, inDelivery{tag: tag}, *slot)
}

// filledDelivery returns an inDelivery whose every field is set (not
// zero), to check that a slot's fields are all copied or all cleared.
func filledDelivery(t *testing.T) inDelivery {
	t.Helper()
	var in inDelivery
	v := reflect.ValueOf(&in).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		f = reflect.NewAt(f.Type(), f.Addr().UnsafePointer()).Elem()
		switch f.Kind() {
		case reflect.Pointer:
			f.Set(reflect.New(f.Type().Elem()))
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Uint64, reflect.Uint32:
			f.SetUint(uint64(i + 1))
		case reflect.Int64:
			f.SetInt(int64(i + 1))
		default:
			t.Fatalf("field %s of kind %s: teach this test (and put) about it", v.Type().Field(i).Name, f.Kind())
		}
	}
	return in
}
