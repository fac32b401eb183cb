package event

import (
	"encoding/binary"
	"testing"
)

func TestAppendFlags(t *testing.T) {
	ff := FlagTable("file_flags")
	for _, tc := range []struct {
		v    uint32
		want string
	}{
		{4097, "O_RDONLY|O_CLOEXEC"},
		{65, "O_NONBLOCK|O_RDONLY"},
		{0, "O_NONE"},
		{1, "O_RDONLY"},
	} {
		if got := string(AppendFlags(nil, ff, tc.v)); got != tc.want {
			t.Errorf("file_flags %d = %q, want %q", tc.v, got, tc.want)
		}
	}
	if got := string(AppendFlags(nil, FlagTable("mmap_flags"), 0)); got != "" {
		t.Errorf("mmap_flags 0 = %q, want nothing", got)
	}
}

func TestAppendJoinPath(t *testing.T) {
	for _, tc := range []struct{ dir, rel, want string }{
		{"/home/alice/", "notes.txt", "/home/alice/notes.txt"},
		{"/home/alice/", "./a/../b//c", "/home/alice/b/c"},
		{"/", "../x", "/x"},
		{"/a/b/", "..", "/a"},
		{"/tmp/", "", "/tmp"},
		{"/", "", "/"},
		{"/", "root/.pyenv/plugins/", "/root/.pyenv/plugins"},
		{"/a/", "../../..", "/"},
		// libsinsp's byte-wise quirks: "..x" and ".x" stay, a relative base loses its
		// whole last part to "..", an empty one nothing, "<UNKNOWN>" (no '/') all of it.
		{"/a/", "..x/.y", "/a/..x/.y"},
		{"dir/x", "../y", "dir/y"},
		{"", "../../passwd", "passwd"},
		{"<UNKNOWN>", "a/../b", "b"},
		{"/a/", "b/", "/a/b"},
		{"/a/", "caf\xc3\xa9", "/a/caf.."},
	} {
		if got := string(AppendJoinPath(nil, tc.dir, []byte(tc.rel))); got != tc.want {
			t.Errorf("join(%q, %q) = %q, want %q", tc.dir, tc.rel, got, tc.want)
		}
	}
}

func TestAppendIPv6(t *testing.T) {
	ip := []byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3}
	if got := string(AppendIPv6(nil, ip)); got != "2001:db8::3" {
		t.Errorf("got %q", got)
	}
	mapped := []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1}
	if got := string(AppendIPv6(nil, mapped)); got != "::ffff:127.0.0.1" {
		t.Errorf("got %q", got)
	}
}

// build makes a v2 event of the given type with raw parameter values.
func build(typ uint16, params ...[]byte) []byte {
	n := len(params)
	size := HeaderV2 + 2*n
	for _, p := range params {
		size += len(p)
	}
	b := make([]byte, size)
	binary.LittleEndian.PutUint64(b[0:], 1)
	binary.LittleEndian.PutUint64(b[8:], 42)
	binary.LittleEndian.PutUint32(b[16:], uint32(size))
	binary.LittleEndian.PutUint16(b[20:], typ)
	binary.LittleEndian.PutUint32(b[22:], uint32(n))
	off := HeaderV2 + 2*n
	for i, p := range params {
		binary.LittleEndian.PutUint16(b[HeaderV2+2*i:], uint16(len(p)))
		copy(b[off:], p)
		off += len(p)
	}
	return b
}

func le64(v int64) []byte {
	b := make([]byte, 8)
	binary.LittleEndian.PutUint64(b, uint64(v))
	return b
}
func le32(v uint32) []byte { b := make([]byte, 4); binary.LittleEndian.PutUint32(b, v); return b }

func TestArgsRendering(t *testing.T) {
	// open exit: fd, name, flags, mode (no dev): as in cat_write.scap event 141.
	raw := build(3, le64(-2), []byte("/etc/x\x00"), le32(4097), le32(0o644))
	var e Event
	if err := e.Set(raw, HeaderV2, Lookup(3)); err != nil {
		t.Fatal(err)
	}
	got, _ := e.AppendArgs(nil, nil, BufNormal, 80, nil)
	if want := "fd=-2 name=/etc/x flags=4097(O_RDONLY|O_CLOEXEC) mode=0644 "; string(got) != want {
		t.Errorf("without a thread fds stay numbers: got %q", got)
	}
	got, _ = e.AppendArgs(nil, nil, BufNormal, 80, fakeResolver{})
	want := "fd=-2(ENOENT) name=/etc/x flags=4097(O_RDONLY|O_CLOEXEC) mode=0644 "
	if string(got) != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	// connect exit with an IPv4 tuple.
	tuple := append([]byte{2, 127, 0, 0, 1}, 0x58, 0xb8, 127, 0, 0, 1, 80, 0)
	raw = build(23, le64(-115), tuple)
	if err := e.Set(raw, HeaderV2, Lookup(23)); err != nil {
		t.Fatal(err)
	}
	got, _ = e.AppendArgs(nil, nil, BufNormal, 80, nil)
	if want := "res=-115(EINPROGRESS) tuple=127.0.0.1:47192->127.0.0.1:80 "; string(got) != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestBufferTruncationAndFormats(t *testing.T) {
	data := make([]byte, 100)
	for i := range data {
		data[i] = 'a'
	}
	raw := build(9, le64(100), data) // write exit: res, data
	var e Event
	if err := e.Set(raw, HeaderV2, Lookup(9)); err != nil {
		t.Fatal(err)
	}
	v, _ := e.AppendParam(nil, nil, 1, BufNormal, 80, nil)
	if len(v) != 80 || string(v[77:]) != "..." {
		t.Errorf("normal buffer not cut to 80 with ...: %q", v)
	}
	v, _ = e.AppendParam(nil, nil, 1, BufASCII, 80, nil)
	if len(v) != 101 || v[0] != '\n' {
		t.Errorf("-A buffer should be whole, on a new line: %d bytes", len(v))
	}
	hx := AppendBuffer(nil, []byte{0x7f, 'E', 'L'}, BufHexASCII)
	if want := "\n\t0x0000: 7f45 4c" + "                              " + "  .EL\n"; string(hx) != want {
		t.Errorf("hex ascii:\n%q\n%q", hx, want)
	}
	if b := AppendBuffer(nil, []byte("ab"), BufBase64); string(b) != "YWI=" {
		t.Errorf("base64 %q", b)
	}
}

func TestCorruptEvents(t *testing.T) {
	var e Event
	raw := build(3, le64(3), []byte("/x\x00"))
	binary.LittleEndian.PutUint16(raw[HeaderV2:], 200) // first length runs past the event
	if err := e.Set(raw, HeaderV2, Lookup(3)); err == nil {
		t.Error("length past the end accepted")
	}
	raw = build(3, le64(3))
	binary.LittleEndian.PutUint32(raw[22:], 1000) // nparams too large
	if err := e.Set(raw, HeaderV2, Lookup(3)); err == nil {
		t.Error("nparams too large accepted")
	}
}

type fakeResolver struct{}

func (fakeResolver) FD(fd int64) (byte, byte, string, bool) { return 0, 0, "", false }
func (fakeResolver) Comm(tid int64) (string, bool)          { return "", false }
func (fakeResolver) User(uid uint32) (string, bool)         { return "", false }
func (fakeResolver) Group(gid uint32) (string, bool)        { return "", false }
func (fakeResolver) Cwd() (string, bool)                    { return "/", true }
func (fakeResolver) DirFdPath(fd int64) string              { return "" }
func (fakeResolver) Storage() *Storage                      { return nil }

// TestSockaddrV6Mapped: an AF_INET6 sockaddr prints in inet_ntop's form, as sysdig: a
// v4-mapped address keeps its ::ffff: prefix (connect's addr, a bound socket's name).
func TestSockaddrV6Mapped(t *testing.T) {
	p := []byte{10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 33, 136, 1, 2, 0x50, 0}
	if got := string(AppendSockaddr(nil, p)); got != "::ffff:33.136.1.2:80" {
		t.Errorf("mapped sockaddr = %q", got)
	}
}
