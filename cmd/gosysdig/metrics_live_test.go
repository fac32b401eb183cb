package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// scrape reads /metrics and checks the exposition as Prometheus parses it: every family has
// HELP and TYPE before its samples, names and labels are valid, counters end in _total, values
// parse. It returns the samples by "name{labels}".
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("content type %q", ct)
	}
	sample := regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? (\S+)$`)
	types := map[string]string{}
	helps := map[string]bool{}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "# HELP "):
			helps[strings.Fields(l)[2]] = true
		case strings.HasPrefix(l, "# TYPE "):
			f := strings.Fields(l)
			if len(f) != 4 || (f[3] != "counter" && f[3] != "gauge") {
				t.Errorf("bad TYPE line %q", l)
				continue
			}
			types[f[2]] = f[3]
			if (f[3] == "counter") != strings.HasSuffix(f[2], "_total") {
				t.Errorf("%s: a %s, against the naming conventions", f[2], f[3])
			}
		default:
			m := sample.FindStringSubmatch(l)
			if m == nil {
				t.Errorf("not a sample line: %q", l)
				continue
			}
			if types[m[1]] == "" || !helps[m[1]] {
				t.Errorf("%s: sample before its HELP and TYPE", m[1])
			}
			v, err := strconv.ParseFloat(m[5], 64)
			if err != nil {
				t.Errorf("%q: %v", l, err)
			}
			out[l[:len(l)-len(m[5])-1]] = v
		}
	}
	return out
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestLiveMetrics runs live rules with --metrics-addr, scrapes /metrics before and after an
// action that fires a rule (a write below /usr/bin), and checks /healthz and the figures:
// events and drops per CPU, events per second, state sizes, alerts per rule and priority,
// the outputs' outcomes, the rules' load time.
func TestLiveMetrics(t *testing.T) {
	needRoot(t)
	bin := buildBinary(t)
	addr := freeAddr(t)
	base := "http://" + addr
	cmd, out, errb := startTraced(t, bin, filepath.Join(t.TempDir(), "ready"), "rules", "--metrics-addr", addr)
	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "ok\n" {
		t.Errorf("/healthz while tracing: %d %q", resp.StatusCode, body)
	}
	time.Sleep(1500 * time.Millisecond) // a second's rate and a sample of the tables
	m1 := scrape(t, base+"/metrics")
	target := filepath.Join("/usr/bin", "gsdmetrics-"+randomHex(t, 6))
	t.Cleanup(func() { os.Remove(target) })
	sh(t, "echo x > "+target+"; rm -f "+target)
	// The rate is over the last whole second: keep the machine busy through it, since a CI
	// machine can be idle for a second (the rate is then rightly 0).
	busy := exec.Command("sh", "-c", "while :; do cat /etc/hostname >/dev/null; done")
	if err := busy.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	m2 := scrape(t, base+"/metrics")
	busy.Process.Kill()
	busy.Wait()
	stopTraced(t, cmd, errb)

	rule := `gosysdig_alerts_total{rule="Write below binary dir",priority="Error"}`
	if d := m2[rule] - m1[rule]; d < 1 {
		t.Errorf("%s went from %v to %v over a write below /usr/bin\n%s", rule, m1[rule], m2[rule], out)
	}
	if m2[`gosysdig_output_alerts_total{output="stdout",outcome="delivered"}`] < 1 {
		t.Errorf("stdout delivered no alert: %v", m2)
	}
	if m2["gosysdig_events_read_total"] <= m1["gosysdig_events_read_total"] || m1["gosysdig_events_read_total"] == 0 {
		t.Errorf("events read: %v then %v", m1["gosysdig_events_read_total"], m2["gosysdig_events_read_total"])
	}
	if m2["gosysdig_events_per_second"] <= 0 {
		t.Errorf("events per second %v", m2["gosysdig_events_per_second"])
	}
	if m2["gosysdig_state_threads"] < 10 || m2["gosysdig_state_fds"] < 10 {
		t.Errorf("state sizes: %v threads, %v fds", m2["gosysdig_state_threads"], m2["gosysdig_state_fds"])
	}
	if m2["gosysdig_rules_enabled"] < 1 || m2["gosysdig_rules_load_seconds"] <= 0 {
		t.Errorf("rules: %v enabled, loaded in %v s", m2["gosysdig_rules_enabled"], m2["gosysdig_rules_load_seconds"])
	}
	var probeEvents float64
	cpus := 0
	for k, v := range m2 {
		if strings.HasPrefix(k, `gosysdig_probe_events_total{cpu="`) {
			probeEvents += v
			cpus++
		}
	}
	if cpus < 1 || probeEvents <= 0 {
		t.Errorf("probe events per CPU: %d CPUs, %v events", cpus, probeEvents)
	}
	if _, ok := m2[`gosysdig_probe_drops_total{cpu="0"}`]; !ok {
		t.Error("no per-CPU drop counter")
	}
	if _, ok := m2[`gosysdig_container_lookups_total{result="found"}`]; !ok {
		t.Error("no container lookup counter")
	}
}
