// Package ids holds the one rule for what an id looks like on the wire:
// a MongoDB ObjectId in 24 hex digits (CONTRACT.md §1.3). HTTP handlers
// check ids in paths and bodies with it, and event payloads their fields.
package ids

// IsObjectID reports whether s is a 24-hex ObjectId string, in either case.
func IsObjectID(s string) bool {
	if len(s) != 24 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
