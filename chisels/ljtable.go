package chisels

import (
	"math"
	"math/bits"
)

// ljOrder returns integer keys in the order LuaJIT 2.1's pairs() visits them after they were
// inserted, in the given order, into a new table with lua_rawseti. sysdig's Lua is LuaJIT, and
// chisels that print a table with pairs() (netstat, lsof) show its traversal order; gopher-lua
// visits keys in insertion order, so inserting in this order reproduces sysdig's output order.
func ljOrder(keys []int64) []int64 {
	t := newLJTab()
	for _, k := range keys {
		t.setint(int32(k))
	}
	out := make([]int64, 0, len(keys))
	for i, ok := range t.arr {
		if ok {
			out = append(out, int64(i))
		}
	}
	for _, n := range t.node {
		if n.val {
			out = append(out, int64(n.key))
		}
	}
	return out
}

type ljNode struct {
	key    float64
	hasKey bool
	val    bool
	next   int
}

type ljTab struct {
	arr     []bool
	node    []ljNode
	hmask   uint32
	freetop int
}

const ljMaxASize = 1<<27 + 1

func newLJTab() *ljTab {
	t := &ljTab{}
	t.newHash(0)
	return t
}

func (t *ljTab) newHash(hbits uint32) {
	if hbits == 0 {
		t.node = []ljNode{{next: -1}}
		t.hmask = 0
		t.freetop = 0
		return
	}
	size := 1 << hbits
	t.node = make([]ljNode, size)
	for i := range t.node {
		t.node[i].next = -1
	}
	t.hmask = uint32(size - 1)
	t.freetop = size
}

func ljRol(x uint32, n uint) uint32 { return bits.RotateLeft32(x, int(n)) }

func (t *ljTab) mainPos(key float64) int {
	u := mathFloat64bits(key)
	lo, hi := uint32(u), uint32(u>>32)<<1
	lo ^= hi
	hi = ljRol(hi, 14)
	lo -= hi
	hi = ljRol(hi, 5)
	hi ^= lo
	hi -= ljRol(lo, 13)
	return int(hi & t.hmask)
}

func (t *ljTab) setint(k int32) {
	if uint32(k) < uint32(len(t.arr)) {
		t.arr[k] = true
		return
	}
	t.setinth(float64(k))
}

func (t *ljTab) setinth(key float64) {
	for n := t.mainPos(key); n >= 0; n = t.node[n].next {
		if t.node[n].hasKey && t.node[n].key == key {
			t.node[n].val = true
			return
		}
	}
	t.newKey(key)
}

func (t *ljTab) set(key float64) {
	if k := int32(key); float64(k) == key {
		t.setint(k)
		return
	}
	t.setinth(key)
}

func (t *ljTab) newKey(key float64) {
	n := t.mainPos(key)
	if t.node[n].val || t.hmask == 0 {
		free := t.freetop
		for {
			if free == 0 {
				t.rehash(key)
				t.set(key)
				return
			}
			free--
			if !t.node[free].hasKey {
				break
			}
		}
		t.freetop = free
		collide := t.mainPos(t.node[n].key)
		if collide != n {
			for t.node[collide].next != n {
				collide = t.node[collide].next
			}
			t.node[collide].next = free
			t.node[free] = t.node[n]
			t.node[n].next = -1
			t.node[n].val = false
		} else {
			t.node[free].next = t.node[n].next
			t.node[n].next = free
			n = free
		}
	}
	t.node[n].key = key
	t.node[n].hasKey = true
	t.node[n].val = true
}

func fls(x uint32) uint32 { return uint32(31 - bits.LeadingZeros32(x)) }

func countInt(key float64, bins []uint32) uint32 {
	k := int32(key)
	if uint32(k) < ljMaxASize && key == float64(k) {
		b := uint32(0)
		if k > 2 {
			b = fls(uint32(k - 1))
		}
		bins[b]++
		return 1
	}
	return 0
}

func (t *ljTab) rehash(ek float64) {
	bins := make([]uint32, 28)
	asize := t.countArray(bins)
	total := 1 + asize
	var na uint32
	for i := 0; i <= int(t.hmask); i++ {
		if t.node[i].val {
			na += countInt(t.node[i].key, bins)
			total++
		}
	}
	asize += na
	asize += countInt(ek, bins)
	nn := asize
	var sum, sz uint32
	na = 0
	for b := uint32(0); 2*nn > (1<<b) && sum != nn; b++ {
		if bins[b] > 0 {
			sum += bins[b]
			if 2*sum > (1 << b) {
				sz = (2 << b) + 1
				na = sum
			}
		}
	}
	total -= na
	var hbits uint32
	switch {
	case total == 1:
		hbits = 1
	case total > 1:
		hbits = 1 + fls(total-1)
	}
	t.resize(sz, hbits)
}

func (t *ljTab) countArray(bins []uint32) uint32 {
	asize := uint32(len(t.arr))
	if asize == 0 {
		return 0
	}
	var na, i uint32
	for b := uint32(0); b < 28; b++ {
		top := uint32(2) << b
		if top >= asize {
			top = asize - 1
			if i > top {
				break
			}
		}
		var n uint32
		for ; i <= top; i++ {
			if t.arr[i] {
				n++
			}
		}
		bins[b] += n
		na += n
	}
	return na
}

func (t *ljTab) resize(asize, hbits uint32) {
	oldArr := t.arr
	oldNode := t.node
	oldHmask := t.hmask
	if int(asize) > len(oldArr) {
		a := make([]bool, asize)
		copy(a, oldArr)
		t.arr = a
	}
	t.newHash(hbits)
	if int(asize) < len(oldArr) {
		t.arr = make([]bool, asize)
		copy(t.arr, oldArr[:asize])
		for i := int(asize); i < len(oldArr); i++ {
			if oldArr[i] {
				t.setinth(float64(i))
			}
		}
	}
	if oldHmask > 0 {
		for i := 0; i <= int(oldHmask); i++ {
			if oldNode[i].val {
				t.set(oldNode[i].key)
			}
		}
	}
}

func mathFloat64bits(f float64) uint64 { return math.Float64bits(f) }

// stdPrimes are libstdc++'s bucket counts (__prime_list), as far as thread tables need them.
var stdPrimes = []uint64{2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71,
	73, 79, 83, 89, 97, 103, 109, 113, 127, 137, 139, 149, 157, 167, 179, 193, 199, 211, 227, 241,
	257, 277, 293, 313, 337, 359, 383, 409, 439, 467, 503, 541, 577, 619, 661, 709, 761, 823, 887,
	953, 1031, 1109, 1187, 1277, 1361, 1459, 1567, 1693, 1823, 1931, 2053, 2203, 2357, 2521, 2699,
	2897, 3089, 3307, 3541, 3803, 4073, 4349, 4657, 4987, 5347, 5711, 6121, 6553, 7019, 7517, 8053,
	8629, 9241, 9887, 10589, 11369, 12173, 13043, 13967, 14969, 16033, 17183, 18427, 19753, 21179,
	22697, 24317, 26041, 27901, 29881, 32003, 34283, 36709, 39323, 42131, 45121, 48313, 51769,
	55469, 59419, 63649, 68209, 73079, 78287, 83873, 89867, 96293, 103141, 110503, 118409, 126859}

// stdOrder returns the order in which a libstdc++ std::unordered_map<int64_t, T> iterates keys
// inserted in the given order (identity hash, prime bucket counts, default max load factor), as
// sysdig's thread and fd tables are.
func stdOrder(keys []int64) []int64 {
	type node struct {
		key  int64
		next *node
	}
	var before node // _M_before_begin
	nb := uint64(1)
	buckets := []*node{nil}
	nextResize := uint64(0)
	bucketOf := func(k int64, n uint64) uint64 { return uint64(k) % n }
	nextBkt := func(n uint64) uint64 {
		fast := []uint64{2, 2, 2, 3, 5, 5, 7, 7, 11, 11, 11, 11, 13, 13}
		if n < uint64(len(fast)) {
			nextResize = fast[n]
			return fast[n]
		}
		for _, p := range stdPrimes {
			if p >= n {
				nextResize = p
				return p
			}
		}
		nextResize = n
		return n
	}
	rehash := func(n uint64) {
		nbk := make([]*node, n)
		p := before.next
		before.next = nil
		var bbegin uint64
		for p != nil {
			next := p.next
			b := bucketOf(p.key, n)
			if nbk[b] == nil {
				p.next = before.next
				before.next = p
				nbk[b] = &before
				if p.next != nil {
					nbk[bbegin] = p
				}
				bbegin = b
			} else {
				p.next = nbk[b].next
				nbk[b].next = p
			}
			p = next
		}
		buckets, nb = nbk, n
	}
	seen := map[int64]bool{}
	count := uint64(0)
	for _, k := range keys {
		if seen[k] {
			continue
		}
		seen[k] = true
		if count+1 > nextResize {
			minB := count + 1
			if nextResize == 0 && minB < 11 {
				minB = 11
			}
			if minB >= nb {
				want := minB + 1
				if nb*2 > want {
					want = nb * 2
				}
				rehash(nextBkt(want))
			} else {
				nextResize = nb
			}
		}
		n := &node{key: k}
		b := bucketOf(k, nb)
		if buckets[b] != nil {
			n.next = buckets[b].next
			buckets[b].next = n
		} else {
			n.next = before.next
			before.next = n
			if n.next != nil {
				buckets[bucketOf(n.next.key, nb)] = n
			}
			buckets[b] = &before
		}
		count++
	}
	out := make([]int64, 0, count)
	for p := before.next; p != nil; p = p.next {
		out = append(out, p.key)
	}
	return out
}
