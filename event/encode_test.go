package event

import (
	"bytes"
	"testing"
)

// TestAppendV2 builds a close exit and reads it back with Set.
func TestAppendV2(t *testing.T) {
	var closeX uint16
	for ty := MaxType - 1; ty >= 0; ty-- {
		if i := Lookup(uint16(ty)); i != nil && i.Name == "close" && ty%2 == 1 {
			closeX = uint16(ty)
			break
		}
	}
	raw := AppendV2([]byte("keep"), 42, 7, closeX, []byte{1, 2, 3, 4, 5, 6, 7, 8})
	if !bytes.HasPrefix(raw, []byte("keep")) {
		t.Fatal("dst not kept")
	}
	var ev Event
	if err := ev.Set(raw[4:], HeaderV2, Lookup(closeX)); err != nil {
		t.Fatal(err)
	}
	if ev.TS != 42 || ev.Tid != 7 || ev.Type != closeX || ev.StoredParams() != 1 || len(ev.Param(0)) != 8 {
		t.Errorf("read back ts %d tid %d type %d params %d", ev.TS, ev.Tid, ev.Type, ev.StoredParams())
	}
}
