package patterns

// This file holds the two prefix tries of the publish-subscribe family:
// Trie, a counted set of prefixes (what a SUB or XSUB subscribed to), and
// mtrie, prefixes mapped to the set of subscribers holding them (what a
// PUB or XPUB routes by). Both are byte-wise tries whose nodes keep their
// children in a small sorted table, so a match costs one table lookup per
// byte of the message's first frame whatever the number of topics, and
// both prune empty branches on removal so memory follows the live set.

// children is a node's child table, sorted by key byte.
type children[N any] struct {
	keys  []byte
	nodes []*N
}

// find returns the child for byte b, or nil.
func (c *children[N]) find(b byte) *N {
	if i := childIndex(c.keys, b); i >= 0 {
		return c.nodes[i]
	}
	return nil
}

// childIndex returns the index of b in the sorted keys of a child table,
// or -1. It is not generic, so the matching loops inline it: small
// tables (the usual case) are scanned in place, larger ones searched.
func childIndex(keys []byte, b byte) int {
	if len(keys) > 8 {
		return searchIndex(keys, b)
	}
	for i, k := range keys {
		if k == b {
			return i
		}
	}
	return -1
}

// searchIndex is childIndex's binary search.
func searchIndex(keys []byte, b byte) int {
	lo, hi := 0, len(keys)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		switch k := keys[mid]; {
		case k == b:
			return mid
		case k < b:
			lo = mid + 1
		default:
			hi = mid
		}
	}
	return -1
}

// index returns where b is or would be inserted.
func (c *children[N]) index(b byte) int {
	lo, hi := 0, len(c.keys)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if c.keys[mid] < b {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// getOrAdd returns the child for b, creating it if needed.
func (c *children[N]) getOrAdd(b byte) *N {
	i := c.index(b)
	if i < len(c.keys) && c.keys[i] == b {
		return c.nodes[i]
	}
	n := new(N)
	c.keys = append(c.keys, 0)
	copy(c.keys[i+1:], c.keys[i:])
	c.keys[i] = b
	c.nodes = append(c.nodes, nil)
	copy(c.nodes[i+1:], c.nodes[i:])
	c.nodes[i] = n
	return n
}

// remove deletes the child for b.
func (c *children[N]) remove(b byte) {
	i := c.index(b)
	if i >= len(c.keys) || c.keys[i] != b {
		return
	}
	c.keys = append(c.keys[:i], c.keys[i+1:]...)
	copy(c.nodes[i:], c.nodes[i+1:])
	c.nodes[len(c.nodes)-1] = nil
	c.nodes = c.nodes[:len(c.nodes)-1]
	if len(c.keys) == 0 {
		c.keys, c.nodes = nil, nil
	}
}

func (c *children[N]) empty() bool { return len(c.keys) == 0 }

// Trie is a counted set of topic prefixes: subscribing to a prefix twice
// needs two removals. The empty prefix matches every message. The zero
// value is an empty Trie. It is not safe for concurrent use. SUB and XSUB
// keep their subscriptions in one; so does a journaled publisher, per
// subscriber it serves from its journal.
type Trie struct {
	root     trieNode
	distinct int
}

type trieNode struct {
	count int
	kids  children[trieNode]
}

// Add counts one more subscription to topic and returns the new count
// (1 means the prefix is new).
func (t *Trie) Add(topic []byte) int {
	n := &t.root
	for _, b := range topic {
		n = n.kids.getOrAdd(b)
	}
	n.count++
	if n.count == 1 {
		t.distinct++
	}
	return n.count
}

// Remove takes away one subscription to topic. It reports whether topic
// was subscribed at all, and whether that was its last subscription.
func (t *Trie) Remove(topic []byte) (found, last bool) {
	found, last, _ = t.root.remove(topic)
	if last {
		t.distinct--
	}
	return found, last
}

// remove works down the path and prunes nodes left empty; prune reports
// that this node holds nothing any more.
func (n *trieNode) remove(topic []byte) (found, last, prune bool) {
	if len(topic) == 0 {
		if n.count == 0 {
			return false, false, false
		}
		n.count--
		return true, n.count == 0, n.count == 0 && n.kids.empty()
	}
	child := n.kids.find(topic[0])
	if child == nil {
		return false, false, false
	}
	found, last, prune = child.remove(topic[1:])
	if prune {
		n.kids.remove(topic[0])
	}
	return found, last, n.count == 0 && n.kids.empty()
}

// Count returns how many subscriptions topic has.
func (t *Trie) Count(topic []byte) int {
	n := &t.root
	for _, b := range topic {
		if n = n.kids.find(b); n == nil {
			return 0
		}
	}
	return n.count
}

// Match reports whether some subscribed prefix is a prefix of data.
func (t *Trie) Match(data []byte) bool {
	n := &t.root
	if n.count > 0 {
		return true
	}
	for _, b := range data {
		i := childIndex(n.kids.keys, b)
		if i < 0 {
			return false
		}
		if n = n.kids.nodes[i]; n.count > 0 {
			return true
		}
	}
	return false
}

// Len is the number of distinct subscribed prefixes.
func (t *Trie) Len() int { return t.distinct }

// Topics returns every distinct subscribed prefix once, in byte order, as
// fresh slices.
func (t *Trie) Topics() [][]byte {
	out := make([][]byte, 0, t.distinct)
	var walk func(n *trieNode, path []byte)
	walk = func(n *trieNode, path []byte) {
		if n.count > 0 {
			out = append(out, append([]byte{}, path...))
		}
		for i, k := range n.kids.keys {
			walk(n.kids.nodes[i], append(path, k))
		}
	}
	walk(&t.root, nil)
	return out
}

// mtrie maps topic prefixes to the set of subscribers holding them, as a
// publisher needs: each subscriber holds a prefix at most once (the
// counting happens at the subscriber's end), and a match visits every
// subscriber holding any prefix of the data. It is not safe for
// concurrent use.
type mtrie[T comparable] struct {
	root mnode[T]
}

type mnode[T comparable] struct {
	vals []T
	kids children[mnode[T]]
}

// Add gives v the prefix topic. It reports whether v did not hold it yet,
// and whether no subscriber held it before (the first subscription).
func (t *mtrie[T]) Add(topic []byte, v T) (added, first bool) {
	n := &t.root
	for _, b := range topic {
		n = n.kids.getOrAdd(b)
	}
	for _, w := range n.vals {
		if w == v {
			return false, false
		}
	}
	n.vals = append(n.vals, v)
	return true, len(n.vals) == 1
}

// Remove takes topic away from v. It reports whether v held it, and
// whether v was its last holder.
func (t *mtrie[T]) Remove(topic []byte, v T) (removed, last bool) {
	removed, last, _ = t.root.remove(topic, v)
	return removed, last
}

func (n *mnode[T]) remove(topic []byte, v T) (removed, last, prune bool) {
	if len(topic) == 0 {
		for i, w := range n.vals {
			if w == v {
				n.vals[i] = n.vals[len(n.vals)-1]
				var zero T
				n.vals[len(n.vals)-1] = zero
				n.vals = n.vals[:len(n.vals)-1]
				if len(n.vals) == 0 {
					n.vals = nil
				}
				return true, len(n.vals) == 0, len(n.vals) == 0 && n.kids.empty()
			}
		}
		return false, false, false
	}
	child := n.kids.find(topic[0])
	if child == nil {
		return false, false, false
	}
	removed, last, prune = child.remove(topic[1:], v)
	if prune {
		n.kids.remove(topic[0])
	}
	return removed, last, len(n.vals) == 0 && n.kids.empty()
}

// Lists appends to out the holder list of each prefix of data that has
// holders, shortest prefix first, and returns it. The lists are the
// trie's own: read them only until the trie changes. A subscriber holding
// several matching prefixes is in several lists; with a single list (the
// usual case: one subscribed prefix matches) nobody is in it twice.
func (t *mtrie[T]) Lists(data []byte, out [][]T) [][]T {
	n := &t.root
	if len(n.vals) > 0 {
		out = append(out, n.vals)
	}
	for _, b := range data {
		i := childIndex(n.kids.keys, b)
		if i < 0 {
			break
		}
		if n = n.kids.nodes[i]; len(n.vals) > 0 {
			out = append(out, n.vals)
		}
	}
	return out
}

// Holders returns how many subscribers hold exactly topic.
func (t *mtrie[T]) Holders(topic []byte) int {
	n := &t.root
	for _, b := range topic {
		if n = n.kids.find(b); n == nil {
			return 0
		}
	}
	return len(n.vals)
}
