package event

import "testing"

// TestTupleV4Rule: an IPv6 tuple prints as IPv4 when both ends are v4-mapped or all-zero
// (libsinsp's is_ipv4_mapped_ipv6): a failed connect of an unbound IPv6 socket to a mapped
// address reads 0.0.0.0:0->127.0.0.1:1, as sysdig prints it.
func TestTupleV4Rule(t *testing.T) {
	mk := func(sip, dip [16]byte, sport, dport uint16) []byte {
		p := []byte{afInet6}
		p = append(p, sip[:]...)
		p = append(p, byte(sport), byte(sport>>8))
		p = append(p, dip[:]...)
		return append(p, byte(dport), byte(dport>>8))
	}
	zero := [16]byte{}
	mapped := [16]byte{10: 0xff, 11: 0xff, 12: 127, 15: 1}
	loop := [16]byte{15: 1}
	for _, tc := range []struct {
		p    []byte
		want string
	}{
		{mk(zero, mapped, 0, 1), "0.0.0.0:0->127.0.0.1:1"},
		{mk(mapped, mapped, 5, 1), "127.0.0.1:5->127.0.0.1:1"},
		{mk(zero, zero, 0, 0), "0.0.0.0:0->0.0.0.0:0"},
		{mk(loop, loop, 5, 1), "::1:5->::1:1"},
		{mk(zero, loop, 0, 1), ":::0->::1:1"},
	} {
		if got := string(appendTuple(nil, tc.p)); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}
