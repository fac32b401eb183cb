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

// TestFsrelpathHaveDirfd: every PT_FSRELPATH parameter resolves against a dirfd parameter, as
// in libs' table (openat's and execveat's entries use parameter 0, DIRFD_PARAM(0)), so that
// "name=rel(/dir/rel)" shows the dirfd's directory and not the cwd.
func TestFsrelpathHaveDirfd(t *testing.T) {
	n := 0
	for id := 0; id < 400; id++ {
		info := Lookup(uint16(id))
		if info == nil {
			continue
		}
		for _, p := range info.Params {
			if p.Type != PTFsrelpath {
				continue
			}
			n++
			if id == 326 && p.DirFd == 1 {
				continue // 0.29.3's own table points openat2's entry name at itself; sysdig renders so
			}
			if p.DirFd < 0 || p.DirFd >= len(info.Params) || info.Params[p.DirFd].Type != PTFd {
				t.Errorf("event %d %s: %s has dirfd %d", id, info.Name, p.Name, p.DirFd)
			}
		}
	}
	if n < 12 {
		t.Errorf("only %d PT_FSRELPATH parameters", n)
	}
}
