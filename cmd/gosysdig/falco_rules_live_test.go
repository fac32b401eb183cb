package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gosysdig/gosysdig/internal/testcaptures"
)

// falcoLiveCase is the action behind one of Falco's rules, with a benign counterpart. Each
// script gets $D, a fresh directory whose path the rule's alert must show (the marker that
// tells the test's alerts from the machine's other activity), and $B its name (unique: the
// marker where the action happens outside $D), and must fire the rule exactly once; the benign
// script must not fire it with its marker.
type falcoLiveCase struct {
	rule, attack, benign string
}

// attackWithTTY are the container cases whose attack runs with a terminal (podman run -t).
var attackWithTTY = map[string]bool{"Terminal shell in container": true}

// FalcoLiveCases are the rules of today's falco_rules.yaml and falco-incubating_rules.yaml
// that the live test performs; README's table of Falco's rules lists them as firing live.
var FalcoLiveCases = []falcoLiveCase{
	{"Read sensitive file untrusted",
		`cp /bin/cat $D/gsdtcat && $D/gsdtcat /etc/shadow >/dev/null`,
		`cp /bin/cat $D/gsdtcat && $D/gsdtcat /etc/hostname >/dev/null`},
	{"Create Symlink Over Sensitive Files",
		`ln -s /etc/shadow $D/sl`,
		`ln -s /etc/hostname $D/sl`},
	{"Create Hardlink Over Sensitive Files",
		`ln /etc/shadow $D/hl`,
		`touch $D/f && ln $D/f $D/hl`},
	{"Execution from /dev/shm",
		`mkdir -p /dev/shm/$B && cp /bin/true /dev/shm/$B/t && cd $D && /dev/shm/$B/t; rm -rf /dev/shm/$B`,
		`cp /bin/true $D/t && cd $D && $D/t`},
	{"Create files below dev",
		`touch /dev/$B; rm -f /dev/$B`,
		`touch $D/dev`},
	{"Set Setuid or Setgid bit",
		`touch $D/f && chmod u+s $D/f`,
		`touch $D/f && chmod u+x $D/f`},
	{"Delete or rename shell history",
		`touch $D/.bash_history && rm $D/.bash_history`,
		`touch $D/history && rm $D/history`},
	{"Schedule Cron Jobs",
		`cp /bin/true $D/crontab && $D/crontab -l $D`,
		`cp /bin/true $D/crontabs && $D/crontabs -l $D`},
	{"Launch Suspicious Network Tool on Host",
		`cp /bin/true $D/nmap && $D/nmap $D`,
		`cp /bin/true $D/nmapper && $D/nmapper $D`},
	{"User mgmt binaries",
		`cp /bin/true $D/useradd && $D/useradd $D`,
		`cp /bin/true $D/useradder && $D/useradder $D`},
	{"Clear Log Activities",
		`touch /var/log/$B.log && cp /dev/null /var/log/$B.log; rm -f /var/log/$B.log`,
		`touch $D/x.log && cp /dev/null $D/x.log`},
	{"Remove Bulk Data from Disk",
		`cp /bin/true $D/shred && $D/shred $D`,
		`cp /bin/true $D/shredder && $D/shredder $D`},
	{"Search Private Keys or Passwords",
		`find $D -name id_rsa`,
		`find $D -name id_rsb`},
	{"Find AWS Credentials",
		`grep -r aws_secret_access_key $D || true`,
		`grep -r hello $D || true`},
	{"Modify Shell Configuration File",
		`cp /dev/null $D/.bashrc`,
		`cp /dev/null $D/bashrc`},
	{"Adding ssh keys to authorized_keys",
		`mkdir -p /home/$B/.ssh && cp /dev/null /home/$B/.ssh/authorized_keys; rm -rf /home/$B`,
		`mkdir -p $D/.ssh && cp /dev/null $D/.ssh/authorized_keys`},
	{"Read ssh information",
		`mkdir -p /home/$B/.ssh && echo x > /home/$B/.ssh/config && cat /home/$B/.ssh/config >/dev/null; rm -rf /home/$B`,
		`mkdir -p $D/.ssh && echo x > $D/.ssh/config && cat $D/.ssh/config >/dev/null`},
	// The parent must not be a shell: xargs runs the reader.
	{"Directory traversal monitored file read",
		`echo | xargs cat $D/../../../../../../etc/hostname >/dev/null`,
		`touch $D/f && echo | xargs cat $D/../$B/f >/dev/null`},
	{"PTRACE attached to process",
		`sleep 5 & p=$!; perl -e 'syscall(101, 16, $ARGV[0], 0, 0)' $p $D; kill -9 $p`,
		`sleep 5 & p=$!; perl -e 'kill 0, $ARGV[0]' $p $D; kill -9 $p`},
	{"PTRACE anti-debug attempt",
		`perl -e 'syscall(101, 0, 0, 0, 0)' $D`,
		`perl -e 'getppid()' $D`},
	{"Change thread namespace",
		`perl -e 'open(F, "<", "/proc/self/ns/uts") or die; syscall(308, fileno(F), 0)' $D`,
		`perl -e 'open(F, "<", "/proc/self/ns/uts") or die' $D`},
	// A web server's copy of a shell starts a shell (two commands: bash does not exec the last).
	{"Run shell untrusted",
		`cp /bin/bash $D/nginx && $D/nginx -c "sh -c 'true $D'; true"`,
		`cp /bin/bash $D/gsdsrv && $D/gsdsrv -c "sh -c 'true $D'; true"`},
	// A program copied into a memfd and run from it.
	{"Fileless execution via memfd_create",
		`perl -e 'my $n = "x"; my $fd = syscall(319, $n, 0); die "memfd_create" if $fd < 0; open(my $in, "<", "/bin/true") or die; binmode $in; local $/; my $data = <$in>; open(my $m, ">&=", $fd) or die; syswrite($m, $data) == length($data) or die; exec {"/proc/self/fd/$fd"} "gsdmemfd", $ARGV[0] or die' $D`,
		`perl -e 'exec {"/bin/true"} "gsdmemfd", $ARGV[0]' $D`},
}

func falcoRulesDirLive(t *testing.T) string {
	t.Helper()
	return falcoRulesDirFor(t, "needs Falco's rules files in ../shared/falco-rules, which this repository cannot hold")
}

// falcoRulesDirFor returns ../shared/falco-rules, or skips saying why (fails under CI).
func falcoRulesDirFor(t *testing.T, why string) string {
	t.Helper()
	d := testcaptures.SharedDir()
	var err error = os.ErrNotExist
	if d != "" {
		d = filepath.Join(d, "falco-rules")
		if _, err = os.Stat(filepath.Join(d, "falco_rules.yaml")); err == nil {
			return d
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("../shared/falco-rules (Falco's rules files) is required under CI: %v", err)
	}
	t.Skip(why)
	return ""
}

type falcoAlert struct {
	Rule, Output string
}

// runFalcoRules runs `gosysdig rules` live with Falco's default and incubating files, runs
// work once the probe is attached, stops it and returns the alerts and the events the probe
// dropped meanwhile (-v's count).
func runFalcoRules(t *testing.T, bin, rulesDir string, work func()) ([]falcoAlert, uint64) {
	t.Helper()
	ready := filepath.Join(t.TempDir(), "ready")
	cmd := exec.Command(bin, "rules", "-v", "--ready-file", ready, "-j", "--matching", "all",
		"-R", filepath.Join(rulesDir, "falco_rules.yaml"), "-R", filepath.Join(rulesDir, "falco-incubating_rules.yaml"))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(ready); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("probe not ready after 30s: %s", errb.String())
		}
	}
	work()
	time.Sleep(500 * time.Millisecond) // let the reader drain the ring buffer
	cmd.Process.Signal(syscall.SIGINT)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("gosysdig rules: %v\n%s", err, errb.String())
	}
	var alerts []falcoAlert
	for _, l := range strings.Split(out.String(), "\n") {
		var a falcoAlert
		if l != "" && json.Unmarshal([]byte(l), &a) == nil {
			alerts = append(alerts, a)
		}
	}
	var drops uint64
	if m := regexp.MustCompile(`and dropped (\d+)`).FindStringSubmatch(errb.String()); m != nil {
		drops, _ = strconv.ParseUint(m[1], 10, 64)
	} else {
		t.Errorf("no event counts in -v's summary:\n%s", errb.String())
	}
	return alerts, drops
}

// runFalcoCases performs cases (run runs one script with its marker) under Falco's rules and
// checks each fires once for its action and never for its benign one. Exactly once holds only
// when the probe lost nothing: a run with drops that misses is performed once more.
func runFalcoCases(t *testing.T, bin, rulesDir string, cases []falcoLiveCase, markers func(attempt, i int) (string, string),
	run func(c falcoLiveCase, script, marker string) error) {
	t.Helper()
	for attempt := 0; ; attempt++ {
		dirs := make([]string, len(cases))
		bdirs := make([]string, len(cases))
		for i := range cases {
			dirs[i], bdirs[i] = markers(attempt, i)
		}
		alerts, drops := runFalcoRules(t, bin, rulesDir, func() {
			for i, c := range cases {
				for _, r := range []struct{ script, marker string }{{c.attack, dirs[i]}, {c.benign, bdirs[i]}} {
					if err := run(c, r.script, r.marker); err != nil {
						t.Errorf("%s: %q: %v", c.rule, r.script, err)
					}
				}
			}
		})
		failures := checkFalcoCases(cases, dirs, bdirs, alerts)
		if len(failures) > 0 && drops > 0 && attempt == 0 {
			t.Logf("the probe dropped %d events during the run, which then missed: once more (%v)", drops, failures)
			continue
		}
		for _, f := range failures {
			t.Error(f)
		}
		if len(failures) > 0 {
			t.Logf("the probe dropped %d events during the run", drops)
		}
		return
	}
}

// TestLiveFalcoRules performs the action behind each case's rule, and its benign
// counterpart, under Falco's own rules, and requires the rule to fire exactly once with the
// case's directory in its output, and never for the benign action.
func TestLiveFalcoRules(t *testing.T) {
	needRoot(t)
	rulesDir := falcoRulesDirLive(t)
	bin := buildBinary(t)
	root := t.TempDir()
	runFalcoCases(t, bin, rulesDir, FalcoLiveCases, func(attempt, i int) (string, string) {
		// Names of their own, unique in any alert text: the marker of each case.
		a := filepath.Join(root, fmt.Sprintf("gsdfr-a-%d-%02d", attempt, i))
		b := filepath.Join(root, fmt.Sprintf("gsdfr-b-%d-%02d", attempt, i))
		for _, d := range []string{a, b} {
			if err := os.Mkdir(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		return a, b
	}, func(c falcoLiveCase, script, dir string) error {
		cmd := exec.Command("bash", "-c", script)
		cmd.Env = append(os.Environ(), "D="+dir, "B="+filepath.Base(dir))
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%v\n%s", err, out)
		}
		return nil
	})
}

// checkFalcoCases requires each case's rule to fire exactly once with the case's marker (the
// base name of its directory) and never with its benign counterpart's; it returns what failed.
func checkFalcoCases(cases []falcoLiveCase, dirs, bdirs []string, alerts []falcoAlert) []string {
	var failures []string
	for i, c := range cases {
		fired, benign := 0, 0
		var seen []string
		for _, a := range alerts {
			if a.Rule != c.rule {
				continue
			}
			seen = append(seen, a.Output)
			if strings.Contains(a.Output, filepath.Base(dirs[i])) {
				fired++
			}
			if strings.Contains(a.Output, filepath.Base(bdirs[i])) {
				benign++
			}
		}
		if fired != 1 {
			failures = append(failures, fmt.Sprintf("%s: fired %d times for its action, want once; its alerts:\n%s", c.rule, fired, strings.Join(seen, "\n")))
		}
		if benign != 0 {
			failures = append(failures, fmt.Sprintf("%s: fired %d times for the benign action; its alerts:\n%s", c.rule, benign, strings.Join(seen, "\n")))
		}
	}
	return failures
}

// FalcoContainerCases are rules of the same files performed in real podman containers (an
// image of the host's busybox and bash, no network but loopback). $B is the case's marker.
var FalcoContainerCases = []falcoLiveCase{
	// A binary copied into the container's upper layer and run, against one of its image.
	{"Drop and execute new binary in container",
		`/bin/busybox cp /bin/busybox /tmp/gsdnew && /tmp/gsdnew true $B; true`,
		`/bin/busybox true $B`},
	{"Launch Package Management Process in Container",
		`/bin/busybox cp /bin/busybox /tmp/dpkg && /tmp/dpkg $B; true`,
		`/bin/busybox cp /bin/busybox /tmp/dpkgx && /tmp/dpkgx $B; true`},
	{"Launch Suspicious Network Tool in Container",
		`/bin/busybox ln -s /bin/busybox /tmp/nc && /tmp/nc $B 1; true`,
		`/bin/busybox ln -s /bin/busybox /tmp/ncx && /tmp/ncx $B 1; true`},
	{"Netcat Remote Code Execution in Container",
		`/bin/busybox ln -s /bin/busybox /tmp/nc && /tmp/nc -e /bin/true $B 1; true`,
		`/bin/busybox ln -s /bin/busybox /tmp/nc && /tmp/nc -w 1 $B 1; true`},
	{"Packet socket created in container",
		`/bin/busybox arping -c 1 -w 1 -I lo 127.0.0.1 $B; true`,
		`/bin/busybox ping -c 1 -w 1 127.0.0.1 $B; true`},
	{"Redirect STDOUT/STDIN to Network Connection in Container",
		`(/bin/busybox nc -l -p 9000 >/dev/null &) ; sleep 0.3; bash -c 'exec 1>/dev/tcp/127.0.0.1/9000; echo hi' $B; true`,
		`(/bin/busybox nc -l -p 9000 >/dev/null &) ; sleep 0.3; bash -c 'exec 3>/dev/tcp/127.0.0.1/9000; true' $B; true`},
	// The entrypoint shell with a terminal, against a shell without one (the scripts differ:
	// the attack is told by its script).
	{"Terminal shell in container", `true`, `exit 0`},
}

// TestLiveFalcoRulesInContainers performs the container cases in real podman containers under
// Falco's default and incubating rules: each rule fires once for its action, never for the
// benign one.
func TestLiveFalcoRulesInContainers(t *testing.T) {
	needRoot(t)
	needTool(t, "podman", "runc", "busybox", "tar", "ldd")
	rulesDir := falcoRulesDirLive(t)
	env, image := podmanSetup(t)
	bin := buildBinary(t)
	runFalcoCases(t, bin, rulesDir, FalcoContainerCases, func(attempt, i int) (string, string) {
		return fmt.Sprintf("gsdfc-a-%d-%02d", attempt, i), fmt.Sprintf("gsdfc-b-%d-%02d", attempt, i)
	}, func(c falcoLiveCase, script, marker string) error {
		args := []string{"run", "--rm", "--network", "none", "-e", "B=" + marker}
		if attackWithTTY[c.rule] && script == c.attack {
			args = append(args, "-t")
		}
		// The marker is also the shell's $0, so that the entrypoint's command line shows it.
		cmd := exec.Command("podman", append(args, image, "/bin/bash", "-c", script, marker)...)
		cmd.Env = append(os.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%v\n%s", err, out)
		}
		return nil
	})
}
