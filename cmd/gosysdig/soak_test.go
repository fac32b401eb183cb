package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

// TestHelperForker is not a test: run by TestLiveSoakMemory as a program of its own, it forks
// GOSYSDIG_FORKER processes one after the other, each opening 10 fds and exiting at once.
func TestHelperForker(t *testing.T) {
	n, err := strconv.Atoi(os.Getenv("GOSYSDIG_FORKER"))
	if err != nil {
		t.Skip("a helper program for TestLiveSoakMemory")
	}
	path := []byte("/dev/null\x00")
	p := uintptr(unsafe.Pointer(&path[0]))
	for i := 0; i < n; i++ {
		pid, _, errno := syscall.RawSyscall(syscall.SYS_FORK, 0, 0, 0)
		if errno != 0 {
			t.Fatalf("fork: %v", errno)
		}
		if pid == 0 {
			// The child runs raw system calls only: it has one thread of a Go program.
			for j := 0; j < 10; j++ {
				syscall.RawSyscall(syscall.SYS_OPEN, p, syscall.O_RDONLY, 0)
			}
			syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 0, 0, 0)
		}
		var ws syscall.WaitStatus
		if _, err := syscall.Wait4(int(pid), &ws, 0, nil); err != nil {
			t.Fatalf("wait4: %v", err)
		}
	}
}

// rssKB is a process's resident set size.
func rssKB(t *testing.T, pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// TestLiveSoakMemory traces the live machine while 100,000 processes start, open 10 fds each
// (a million fds) and exit: gosysdig's memory must stay flat once its tables have grown to
// the working set, and its thread and fd tables must come back down (no thread or fd left
// behind). The figures are logged: RSS after the warm-up and after each batch, table sizes,
// probe drops, threads purged because their exit was lost.
func TestLiveSoakMemory(t *testing.T) {
	needRoot(t)
	bin := buildBinary(t)
	addr := freeAddr(t)
	cmd, _, errb := startTraced(t, bin, filepath.Join(t.TempDir(), "ready"), "--metrics-addr", addr,
		"--thread-timeout", "5s", "proc.name=gsdnomatch")
	forker := func(n int) {
		c := exec.Command(os.Args[0], "-test.run=^TestHelperForker$", "-test.count=1")
		c.Env = append(os.Environ(), "GOSYSDIG_FORKER="+strconv.Itoa(n))
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("forker: %v\n%s", err, out)
		}
	}
	metricsURL := "http://" + addr + "/metrics"
	state := func() (threads, fds float64) {
		m := scrape(t, metricsURL)
		return m["gosysdig_state_threads"], m["gosysdig_state_fds"]
	}
	forker(10000) // the tables and buffers grow to the working set
	th0, fd0 := state()
	rss := []int{rssKB(t, cmd.Process.Pid)}
	for i := 0; i < 3; i++ {
		forker(30000)
		rss = append(rss, rssKB(t, cmd.Process.Pid))
	}
	// The last tables' sample is at most a second old; the purge scan runs every 5 s.
	sh(t, "sleep 6.5; true")
	th1, fd1 := state()
	m := scrape(t, metricsURL)
	stopTraced(t, cmd, errb)
	var drops float64
	for k, v := range m {
		if strings.HasPrefix(k, "gosysdig_probe_drops_total") {
			drops += v
		}
	}
	t.Logf("RSS (KiB) after 10k processes, then after each 30k: %v; threads %v -> %v, fds %v -> %v; probe drops %v; threads purged (exit lost) %v",
		rss, th0, th1, fd0, fd1, drops, m[`gosysdig_state_evictions_total{table="thread_exit_lost"}`])
	if grow := rss[3] - rss[1]; grow > 16*1024 {
		t.Errorf("RSS grew %d KiB over the last 60,000 processes (%v): not flat", grow, rss)
	}
	if th1 > th0+200 || fd1 > fd0+2000 {
		t.Errorf("the state kept what exited: threads %v -> %v, fds %v -> %v", th0, th1, fd0, fd1)
	}
}
