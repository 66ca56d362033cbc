package patterns

import (
	"bytes"
	"fmt"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTrieCountsAndMatches(t *testing.T) {
	var tr Trie
	assert.False(t, tr.Match([]byte("abc")))
	assert.Equal(t, 1, tr.Add([]byte("ab")))
	assert.Equal(t, 2, tr.Add([]byte("ab")))
	assert.Equal(t, 1, tr.Add([]byte("xyz")))
	assert.Equal(t, 2, tr.Len())
	assert.Equal(t, 2, tr.Count([]byte("ab")))
	assert.Equal(t, 0, tr.Count([]byte("a")))

	for data, want := range map[string]bool{"ab": true, "abc": true, "a": false, "": false, "xy": false, "xyz!": true, "b": false} {
		assert.Equal(t, want, tr.Match([]byte(data)), "match %q", data)
	}

	found, last := tr.Remove([]byte("ab"))
	assert.True(t, found)
	assert.False(t, last, "two subscriptions need two removals")
	assert.True(t, tr.Match([]byte("abc")))
	found, last = tr.Remove([]byte("ab"))
	assert.True(t, found)
	assert.True(t, last)
	assert.False(t, tr.Match([]byte("abc")))
	found, _ = tr.Remove([]byte("ab"))
	assert.False(t, found)
	found, _ = tr.Remove([]byte("nope"))
	assert.False(t, found)
	assert.Equal(t, [][]byte{[]byte("xyz")}, tr.Topics())

	tr.Add(nil)
	assert.True(t, tr.Match(nil), "the empty prefix matches everything")
	assert.True(t, tr.Match([]byte("anything")))
	assert.Equal(t, [][]byte{{}, []byte("xyz")}, tr.Topics())
}

func TestTriePrunes(t *testing.T) {
	var tr Trie
	tr.Add([]byte("abcdef"))
	tr.Add([]byte("abc"))
	tr.Remove([]byte("abcdef"))
	tr.Remove([]byte("abc"))
	assert.True(t, tr.root.kids.empty(), "empty branches are pruned")
	assert.Equal(t, 0, tr.Len())
}

func TestTrieWideNode(t *testing.T) {
	// More than 8 children switches the child lookup to binary search.
	var tr Trie
	for b := 0; b < 256; b += 3 {
		tr.Add([]byte{byte(b), 'x'})
	}
	for b := 0; b < 256; b++ {
		assert.Equal(t, b%3 == 0, tr.Match([]byte{byte(b), 'x', 'y'}), "byte %d", b)
	}
	for b := 0; b < 256; b += 3 {
		_, last := tr.Remove([]byte{byte(b), 'x'})
		require.True(t, last)
	}
	assert.True(t, tr.root.kids.empty())
}

func TestMtrieSetsPerHolder(t *testing.T) {
	var mt mtrie[int]
	added, first := mt.Add([]byte("a"), 1)
	assert.True(t, added)
	assert.True(t, first)
	added, first = mt.Add([]byte("a"), 1)
	assert.False(t, added, "a holder holds a prefix once")
	assert.False(t, first)
	added, first = mt.Add([]byte("a"), 2)
	assert.True(t, added)
	assert.False(t, first)
	mt.Add([]byte("ab"), 1)
	mt.Add(nil, 3)
	assert.Equal(t, 2, mt.Holders([]byte("a")))

	var got []int
	lists := mt.Lists([]byte("abc"), nil)
	assert.Len(t, lists, 3, "the empty prefix, a and ab")
	for _, l := range lists {
		got = append(got, l...)
	}
	sort.Ints(got)
	assert.Equal(t, []int{1, 1, 2, 3}, got, "once per matching prefix")
	assert.Equal(t, [][]int{{3}}, mt.Lists([]byte("x"), nil), "only the empty prefix matches")

	removed, last := mt.Remove([]byte("a"), 1)
	assert.True(t, removed)
	assert.False(t, last)
	removed, last = mt.Remove([]byte("a"), 2)
	assert.True(t, removed)
	assert.True(t, last)
	removed, _ = mt.Remove([]byte("a"), 2)
	assert.False(t, removed)
	mt.Remove([]byte("ab"), 1)
	mt.Remove(nil, 3)
	assert.True(t, mt.root.kids.empty())
	assert.Empty(t, mt.root.vals)
}

// FuzzTrie checks Trie against a map of counts under a sequence of
// operations read from the input: op byte, topic length, topic.
func FuzzTrie(f *testing.F) {
	f.Add([]byte{0, 2, 'a', 'b', 0, 1, 'a', 1, 2, 'a', 'b', 2, 3, 'a', 'b', 'c'})
	f.Add([]byte{0, 0, 2, 5, 'h', 'e', 'l', 'l', 'o', 1, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		var tr Trie
		var mt mtrie[byte]
		model := map[string]int{}
		held := map[string]map[byte]bool{}
		for len(ops) >= 2 {
			op, n := ops[0]%3, int(ops[1])%8
			ops = ops[2:]
			n = min(n, len(ops))
			topic := ops[:n]
			ops = ops[n:]
			holder := byte(n % 3)
			switch op {
			case 0:
				require.Equal(t, model[string(topic)]+1, tr.Add(topic))
				model[string(topic)]++
				added, first := mt.Add(topic, holder)
				if held[string(topic)] == nil {
					held[string(topic)] = map[byte]bool{}
				}
				require.Equal(t, !held[string(topic)][holder], added)
				require.Equal(t, len(held[string(topic)]) == 0, first)
				held[string(topic)][holder] = true
			case 1:
				found, last := tr.Remove(topic)
				require.Equal(t, model[string(topic)] > 0, found)
				require.Equal(t, model[string(topic)] == 1, last)
				if found {
					model[string(topic)]--
					if model[string(topic)] == 0 {
						delete(model, string(topic))
					}
				}
				removed, mlast := mt.Remove(topic, holder)
				require.Equal(t, held[string(topic)][holder], removed)
				if removed {
					delete(held[string(topic)], holder)
					require.Equal(t, len(held[string(topic)]) == 0, mlast)
				}
			case 2:
				want := false
				wantHolders := map[byte]int{}
				for k := range model {
					if bytes.HasPrefix(topic, []byte(k)) {
						want = true
					}
				}
				for k, hs := range held {
					if bytes.HasPrefix(topic, []byte(k)) {
						for h := range hs {
							wantHolders[h]++
						}
					}
				}
				require.Equal(t, want, tr.Match(topic))
				gotHolders := map[byte]int{}
				for _, l := range mt.Lists(topic, nil) {
					require.NotEmpty(t, l, "only prefixes with holders")
					for _, h := range l {
						gotHolders[h]++
					}
				}
				require.Equal(t, wantHolders, gotHolders)
			}
		}
		require.Equal(t, len(model), tr.Len())
		require.Len(t, tr.Topics(), len(model))
	})
}

// BenchmarkTrieMatch measures a match against 10,000 subscribed topics.
func BenchmarkTrieMatch(b *testing.B) {
	var tr Trie
	for i := 0; i < 10000; i++ {
		tr.Add([]byte(fmt.Sprintf("market.%04d.", i)))
	}
	hit := []byte("market.7342.quote bid=10 ask=11")
	miss := []byte("market.x")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if !tr.Match(hit) || tr.Match(miss) {
			b.Fatal("wrong match")
		}
	}
}

// BenchmarkMtrieMatch measures a publisher's match against 10,000 topics
// spread over 100 subscribers.
func BenchmarkMtrieMatch(b *testing.B) {
	var mt mtrie[int]
	for i := 0; i < 10000; i++ {
		mt.Add([]byte(fmt.Sprintf("market.%04d.", i)), i%100)
	}
	hit := []byte("market.7342.quote bid=10 ask=11")
	n := 0
	var lists [][]int
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		lists = mt.Lists(hit, lists[:0])
		n += len(lists)
	}
	if n != b.N {
		b.Fatal("wrong match")
	}
}
