package ticket

import (
	"slices"
	"sort"
)

// chunkSize bounds one chunk of sortedIDs: an insert or removal moves at
// most this many ids, and a lookup is two binary searches.
const chunkSize = 512

// sortedIDs is a set of ticket ids in ascending order, kept as a list of
// sorted chunks, so that inserting or removing an id anywhere costs
// O(chunkSize + chunks) rather than O(n) as in one sorted slice. Ids are
// lowercase hex ObjectIds, whose string order is their byte order and, the
// first four bytes being a timestamp, creation order: new ids land at the
// end. Not safe for concurrent use.
type sortedIDs struct {
	chunks [][]string // each sorted and non-empty; every id of one below every id of the next
	n      int
}

func (s *sortedIDs) len() int { return s.n }

// chunkFor is the index of the first chunk whose last id is >= id, or
// len(s.chunks) when there is none.
func (s *sortedIDs) chunkFor(id string) int {
	return sort.Search(len(s.chunks), func(i int) bool {
		c := s.chunks[i]
		return c[len(c)-1] >= id
	})
}

// insert adds id; an id already present is left alone.
func (s *sortedIDs) insert(id string) {
	i := s.chunkFor(id)
	if i == len(s.chunks) {
		if i == 0 || len(s.chunks[i-1]) >= chunkSize {
			s.chunks = append(s.chunks, []string{id})
			s.n++
			return
		}
		i-- // above every id: append to the last chunk
	}
	c := s.chunks[i]
	j, found := slices.BinarySearch(c, id)
	if found {
		return
	}
	c = slices.Insert(c, j, id)
	s.n++
	if len(c) <= chunkSize {
		s.chunks[i] = c
		return
	}
	half := len(c) / 2
	lo, hi := slices.Clone(c[:half]), slices.Clone(c[half:])
	s.chunks[i] = lo
	s.chunks = slices.Insert(s.chunks, i+1, hi)
}

// remove deletes id if present.
func (s *sortedIDs) remove(id string) {
	i := s.chunkFor(id)
	if i == len(s.chunks) {
		return
	}
	c := s.chunks[i]
	j, found := slices.BinarySearch(c, id)
	if !found {
		return
	}
	s.n--
	if len(c) == 1 {
		s.chunks = slices.Delete(s.chunks, i, i+1)
		return
	}
	s.chunks[i] = slices.Delete(c, j, j+1)
}

// descending calls fn with the ids below before (all ids when before is
// empty), largest first, until fn returns false.
func (s *sortedIDs) descending(before string, fn func(id string) bool) {
	i, j := len(s.chunks)-1, -1
	if i >= 0 {
		j = len(s.chunks[i]) - 1
	}
	if before != "" {
		if k := s.chunkFor(before); k < len(s.chunks) {
			// The first id >= before is at (k, pos); start just below it.
			pos, _ := slices.BinarySearch(s.chunks[k], before)
			i, j = k, pos-1
		}
	}
	for i >= 0 {
		c := s.chunks[i]
		for ; j >= 0; j-- {
			if !fn(c[j]) {
				return
			}
		}
		i--
		if i >= 0 {
			j = len(s.chunks[i]) - 1
		}
	}
}
