package probe

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeScap writes a minimal capture sysdig 0.29.3 reads: an SHB and one
// EV_V2 block per record (u16 cpu + event, exactly what the probe emits).
func writeScap(t *testing.T, path string, records [][]byte) {
	t.Helper()
	var b bytes.Buffer
	le := binary.LittleEndian
	b.Write(le.AppendUint32(nil, 0x0A0D0D0A))
	b.Write(le.AppendUint32(nil, 28))
	b.Write(le.AppendUint32(nil, 0x1A2B3C4D))
	b.Write(le.AppendUint16(nil, 1))
	b.Write(le.AppendUint16(nil, 2))
	b.Write(le.AppendUint64(nil, ^uint64(0)))
	b.Write(le.AppendUint32(nil, 28))
	for _, r := range records {
		pad := (4 - len(r)%4) % 4
		total := uint32(8 + len(r) + pad + 4)
		b.Write(le.AppendUint32(nil, 0x216))
		b.Write(le.AppendUint32(nil, total))
		b.Write(r)
		b.Write(make([]byte, pad))
		b.Write(le.AppendUint32(nil, total))
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// captureScript runs script in a shell started before the probe and
// returns the records (u16 cpu + event) of the shell and its descendants,
// until the shell's procexit.
func captureScript(t *testing.T, script string) [][]byte {
	t.Helper()
	h := startHelper(t)
	p, err := Load(Options{IgnoreTgid: uint32(os.Getpid())})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	defer p.Close()
	if _, err := io.WriteString(h.stdin, script); err != nil {
		t.Fatal(err)
	}
	helperPid := uint64(h.pid)

	var recs [][]byte
	tids := map[uint64]bool{helperPid: true}
	deadline := time.Now().Add(20 * time.Second)
	var stopAt time.Time
	for time.Now().Before(deadline) && (stopAt.IsZero() || time.Now().Before(stopAt)) {
		cpu, ev, err := p.Next()
		if err != nil {
			t.Fatal(err)
		}
		e, err := decodeEvent(cpu, ev)
		if err != nil {
			t.Fatal(err)
		}
		// Keep the helper and its children (clone exits name them).
		switch e.Type {
		case 223, 225, 227, 335:
			if tids[e.TID] && e.i64(0) > 0 {
				tids[uint64(e.i64(0))] = true
			}
			if e.i64(0) == 0 && tids[uint64(e.i64(5))] {
				tids[e.TID] = true
			}
		}
		if !tids[e.TID] {
			continue
		}
		rec := make([]byte, 2+len(ev))
		binary.LittleEndian.PutUint16(rec, cpu)
		copy(rec[2:], ev)
		recs = append(recs, rec)
		if e.Type == 186 && e.TID == helperPid && stopAt.IsZero() {
			stopAt = time.Now().Add(100 * time.Millisecond)
		}
	}
	h.cmd.Wait()
	return recs
}

// sysdigPrint writes records to a capture and returns what sysdig 0.29.3
// prints for it, one "dir proc type args" line per event.
func sysdigPrint(t *testing.T, recs [][]byte) string {
	t.Helper()
	sysdig, err := exec.LookPath("sysdig")
	if err != nil {
		t.Skip("sysdig not installed")
	}
	capture := filepath.Join(t.TempDir(), "live.scap")
	if keep := os.Getenv("PROBE_KEEP_SCAP"); keep != "" {
		capture = keep
	}
	writeScap(t, capture, recs)
	cmd := exec.Command(sysdig, "-r", capture, "-p", "%evt.dir %proc.name %evt.type %evt.args")
	cmd.Env = append(os.Environ(), "TZ=UTC")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sysdig -r: %v\n%s", err, stderr.String())
	}
	text := string(out)
	if n := strings.Count(text, "\n"); n != len(recs) {
		t.Errorf("sysdig printed %d lines for %d events", n, len(recs))
	}
	return text
}

func expectLines(t *testing.T, text string, wants []string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(text, want) {
			t.Errorf("sysdig output lacks %q", want)
		}
	}
	if t.Failed() {
		lines := strings.Split(text, "\n")
		if len(lines) > 400 {
			lines = lines[len(lines)-400:]
		}
		t.Logf("sysdig output (tail):\n%s", strings.Join(lines, "\n"))
	}
}

// TestLiveSysdigReadsEvents records a shell's events and checks that
// sysdig 0.29.3 itself decodes them with the expected arguments.
func TestLiveSysdigReadsEvents(t *testing.T) {
	needRoot(t)
	if _, err := exec.LookPath("sysdig"); err != nil {
		t.Skip("sysdig not installed")
	}
	outFile := filepath.Join(t.TempDir(), "sysdig-out.txt")
	recs := captureScript(t, fmt.Sprintf("cat /etc/hostname >/dev/null\necho sysdig-check > %s\nexit 0\n", outFile))
	text := sysdigPrint(t, recs)
	t.Logf("%d events captured and printed by sysdig", len(recs))
	expectLines(t, text, []string{
		"< cat execve res=0 exe=cat args=/etc/hostname. tid=",
		" cwd=" + mustGetwd(t) + " ",
		"> cat openat dirfd=-100(AT_FDCWD) name=/etc/hostname flags=1(O_RDONLY) mode=0",
		"< cat openat fd=3(<f>/etc/hostname) dirfd=-100(AT_FDCWD) name=/etc/hostname flags=1(O_RDONLY) mode=0 dev=",
		"> cat read fd=3(<f>/etc/hostname) size=",
		"> cat close fd=3(<f>/etc/hostname)",
		"> cat procexit status=0 ret=0 sig=0 core=0",
		"< sh write res=13 data=sysdig-check.",
		"> sh procexit status=0 ret=0 sig=0 core=0",
	})
}

// TestLiveSysdigFilesAndSockets covers path, link, mode and socket events
// (TCP, UDP, unix socketpair, sendmsg/recvmsg) as sysdig prints them.
func TestLiveSysdigFilesAndSockets(t *testing.T) {
	needRoot(t)
	if _, err := exec.LookPath("sysdig"); err != nil {
		t.Skip("sysdig not installed")
	}
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		t.Skip("no /usr/bin/python3")
	}
	dir := t.TempDir()
	script := fmt.Sprintf(`cd %s; mkdir d; mkdir d/a; ln -s d/a l; touch d/f; chmod 640 d/f; mv d/f d/g; ln d/g d/h; rm -f d/g d/h l; rmdir d/a
ls / | cat >/dev/null
mkdir m; unshare -m sh -c 'mount -t tmpfs none m && umount m'
%s -c 'import socket,os
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(5)
c=socket.socket(); c.connect(s.getsockname()); a,_=s.accept()
c.send(b"ping"); a.recv(10)
u=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.sendto(b"udp", ("127.0.0.1", 9))
x,y=socket.socketpair(); x.sendmsg([b"hi"]); y.recvmsg(10)
r,w=os.pipe(); os.writev(w, [b"ab", b"cd"]); os.readv(r, [bytearray(3), bytearray(3)])
os.setresuid(0, 0, 0); os.setuid(0)
os.kill(os.getpid(), 0)'
exit 0
`, dir, py)
	text := sysdigPrint(t, captureScript(t, script))
	expectLines(t, text, []string{
		"< mkdir mkdir res=0 path=d/a",
		"< ln symlinkat res=0 target=d/a linkdirfd=-100(AT_FDCWD) linkpath=l",
		"< chmod fchmodat res=0 dirfd=-100(AT_FDCWD) filename=d/f",
		"mode=0640(S_IRGRP|S_IWUSR|S_IRUSR)",
		"< mv renameat2 res=0 olddirfd=-100(AT_FDCWD) oldpath=d/f",
		"< ln linkat res=0 olddir=-100(AT_FDCWD) oldpath=d/g",
		"< rm unlinkat res=0 dirfd=-100(AT_FDCWD) name=d/h",
		"< rmdir rmdir res=0 path=d/a",
		"> python3 socket domain=2(AF_INET) type=524289 proto=0",
		"< python3 bind res=0 addr=127.0.0.1:0",
		"> python3 listen fd=3(<4>127.0.0.1:0) backlog=5",
		"< python3 connect res=0 tuple=127.0.0.1:",
		"queuelen=0 queuemax=5",
		"< python3 sendto res=4 data=ping",
		"< python3 recvfrom res=4 data=ping tuple=127.0.0.1:",
		"< python3 sendto res=3 data=udp",
		"> python3 socketpair domain=1(AF_LOCAL) type=524289 proto=0",
		"< python3 socketpair res=0 fd1=",
		"< python3 sendmsg res=2 data=hi",
		"< python3 recvmsg res=2 size=10 data=hi tuple=",
		"sig=0",
		"< python3 writev res=4 data=abcd",
		"< python3 readv res=4 size=6 data=abcd",
		"> python3 setresuid ruid=0",
		"> python3 setuid uid=0",
		"< sh pipe res=0 fd1=",
		"> unshare unshare flags=32(CLONE_NEWNS)",
		"> mount mount flags=0",
		"< mount mount res=0 dev=none dir=" + dir + "/m type=tmpfs",
		"> umount umount flags=0",
		"< umount umount res=0 name=" + dir + "/m",
	})
}

func mustGetwd(t *testing.T) string {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return wd
}
