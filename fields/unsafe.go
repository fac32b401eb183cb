package fields

import "unsafe"

// unsafeBytes views a string's bytes without copying; callers never write to them.
func unsafeBytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}
