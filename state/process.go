package state

import (
	"strings"

	"github.com/gosysdig/gosysdig/event"
)

// splitArgs turns a run of NUL-terminated strings into a slice.
// The items share one string, so an execve costs two allocations, not one per argument.
func splitArgs(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	n := 0
	for _, c := range b {
		if c == 0 {
			n++
		}
	}
	if b[len(b)-1] != 0 {
		n++
	}
	all := string(b)
	out := make([]string, 0, n)
	start := 0
	for i := 0; i < len(all); i++ {
		if all[i] == 0 {
			out = append(out, all[start:i])
			start = i + 1
		}
	}
	if start < len(all) {
		out = append(out, all[start:])
	}
	return out
}

func paramStr(ev *event.Event, name string) (string, bool) {
	i := ev.ParamIndex(name)
	if i < 0 {
		return "", false
	}
	return string(event.CString(ev.Param(i))), true
}

func paramInt(ev *event.Event, name string) (int64, bool) {
	i := ev.ParamIndex(name)
	if i < 0 {
		return 0, false
	}
	return ev.Int(i)
}

func paramUint(ev *event.Event, name string) (uint64, bool) {
	i := ev.ParamIndex(name)
	if i < 0 {
		return 0, false
	}
	return ev.Uint(i)
}

// parseExecve applies a successful execve to the calling thread: new program, args,
// environment and memory, as sysdig's execve exit parser does (the cwd is left as it was).
func (in *Inspector) parseExecve(ev *event.Event, t *Thread) {
	if res, _ := ev.Int(0); res < 0 {
		return
	}
	if exe, ok := paramStr(ev, "exe"); ok {
		t.Exe = exe
	}
	if i := ev.ParamIndex("args"); i >= 0 {
		t.Args = splitArgs(ev.Param(i))
	}
	if v, ok := paramInt(ev, "pid"); ok {
		t.Pid = v
	}
	if v, ok := paramInt(ev, "ptid"); ok && t.Ptid == -1 {
		t.Ptid = v // libsinsp patches only a placeholder's parent
	}
	if v, ok := paramInt(ev, "fdlimit"); ok {
		t.FdLimit = v
	}
	setCounters(ev, t)
	if comm, ok := paramStr(ev, "comm"); ok {
		t.Comm = comm
	} else {
		t.Comm = t.Exe // execve versions before 15 carry no comm: libsinsp takes the exe
	}
	if i := ev.ParamIndex("cgroups"); i >= 0 {
		t.Cgroups = sinspCgroups(splitArgs(ev.Param(i)))
		t.ContainerID = containerIDFromCgroups(t.Cgroups)
	}
	if i := ev.ParamIndex("env"); i >= 0 {
		t.Env = splitArgs(ev.Param(i))
	}
	if v, ok := paramUint(ev, "tty"); ok {
		t.Tty = uint32(v)
	}
	if v, ok := paramUint(ev, "loginuid"); ok {
		t.LoginUid = uint32(v)
	}
	if v, ok := paramUint(ev, "uid"); ok {
		t.Uid = uint32(v)
	}
	if v, ok := paramUint(ev, "gid"); ok {
		t.Gid = uint32(v)
	}
	if v, ok := paramInt(ev, "pgid"); ok { // 0.29.3's name for the process group
		t.Vpgid = v
	} else if v, ok := paramInt(ev, "vpgid"); ok {
		t.Vpgid = v
	}
	if p, ok := paramStr(ev, "trusted_exepath"); ok {
		t.Exepath = p
	} else {
		in.execEnterPath(ev, t)
	}
	// libsinsp clears the clone flags, keeping only its own pipe, main-thread and inverted
	// ones: the thread no longer shares its process's files (get_fd_table reads its own
	// table: empty for a thread never given a copy, the fds it opened while it was its own
	// main thread otherwise) nor counts as a CLONE_THREAD.
	t.Flags &= clPipeSrc | clPipeDst | clIsMainThread | clCloneInverted
	t.ownFDs()
	// execve's flags (libs' PPM_EXE_*): 1 writable, 2 overlayfs upper layer, 4 from a memfd.
	// A memfd's path reads "/memfd:NAME (deleted)", which libs also takes as from-memfd.
	t.ExeUpperLayer, t.ExeFromMemfd = false, false
	t.ExeIno, t.ExeInoCtime, t.ExeInoMtime = 0, 0, 0
	if v, ok := paramUint(ev, "exe_ino"); ok {
		t.ExeIno = v
	}
	if v, ok := paramUint(ev, "exe_ino_ctime"); ok {
		t.ExeInoCtime = v
	}
	if v, ok := paramUint(ev, "exe_ino_mtime"); ok {
		t.ExeInoMtime = v
	}
	if v, ok := paramUint(ev, "flags"); ok {
		t.ExeWritable = v&1 != 0
		t.ExeUpperLayer = v&2 != 0
		t.ExeFromMemfd = v&4 != 0
	}
	if strings.HasPrefix(t.Exepath, "/memfd:") {
		t.ExeFromMemfd = true
	}
	in.execCaps(ev, t)
}

// execCaps applies the capability sets an execve left, which an exec recomputes (file
// capabilities, a uid change, the bounding set) and nothing else in the stream tells. They are
// later libs' execve exit parameters 21-23 (cap_inheritable, cap_permitted, cap_effective,
// masks of kernel capability bits), beyond 0.29.3's table: gosysdig's probe sends them, and
// sysdig 0.29.3 reads such events as if they were not there. Without them the thread keeps
// the sets it had (from /proc or its parent).
func (in *Inspector) execCaps(ev *event.Event, t *Thread) {
	if (ev.Type != 293 && ev.Type != 331) || ev.NParams() != 20 || ev.StoredParams() < 23 {
		return
	}
	inh, ok1 := event.DecodeUint(ev.StoredParam(20))
	prm, ok2 := event.DecodeUint(ev.StoredParam(21))
	eff, ok3 := event.DecodeUint(ev.StoredParam(22))
	if !ok1 || !ok2 || !ok3 {
		return
	}
	t.CapInheritable, t.CapPermitted, t.CapEffective = inh, prm, eff
	t.CapsKnown = true
}

// execEnterPath sets exepath as sysdig 0.29.3's execve exit parser: from the entry's filename
// (execve versions 18 and 19) or dirfd and pathname (execveat), joined to the cwd; "<NA>" when
// the driver could not read it. Without the entry event, or for older execve versions that
// carry no filename, exepath stays what it was (a new thread's is empty).
func (in *Inspector) execEnterPath(ev *event.Event, t *Thread) {
	if ev.Type != 289 && ev.Type != 293 && ev.Type != 331 {
		return
	}
	var enter event.Event
	if !in.enterEvent(t, &enter) || enter.Type != ev.Type-1 {
		return
	}
	if ev.Type != 331 {
		if enter.NParams() < 1 {
			return
		}
		name := event.CString(enter.Param(0))
		if strings.HasPrefix(string(name), "<NA>") {
			t.Exepath = "<NA>"
			return
		}
		// Joined to the thread's own cwd, as libsinsp (not its process's: no main thread
		// lookup, so none is made up either).
		if pathTooLong(len(t.Cwd), len(enter.Param(0))) {
			t.Exepath = pathTooLongName
		} else if len(name) > 0 && name[0] == '/' {
			t.Exepath = string(event.AppendJoinPath(nil, "/", name[1:]))
		} else {
			t.Exepath = string(event.AppendJoinPath(nil, t.Cwd, name))
		}
		return
	}
	if enter.NParams() < 3 {
		return
	}
	dirfd, _ := enter.Int(0)
	name := event.CString(enter.Param(1))
	if strings.HasPrefix(string(name), "<NA>") {
		t.Exepath = "<NA>"
		return
	}
	flags, _ := enter.Uint(2)
	const ppmExvatAtEmptyPath = 1
	if flags&ppmExvatAtEmptyPath != 0 && len(name) == 0 {
		// The fd itself is the program: its path is the directory fd's name.
		if f := in.fdOf(t, dirfd); f != nil && dirfd != atFdcwd {
			t.Exepath = f.Name
		} else {
			t.Exepath = strings.TrimSuffix(in.Cwd(t), "/")
		}
		return
	}
	t.Exepath = in.fullPath(t, name, dirfd, true)
}

// setCounters takes the page-fault and memory counters an execve or clone exit carries.
func setCounters(ev *event.Event, t *Thread) {
	if v, ok := paramUint(ev, "pgft_maj"); ok {
		t.PfMajor = v
	}
	if v, ok := paramUint(ev, "pgft_min"); ok {
		t.PfMinor = v
	}
	if v, ok := paramUint(ev, "vm_size"); ok {
		t.VmSizeKB = uint32(v)
	}
	if v, ok := paramUint(ev, "vm_rss"); ok {
		t.VmRssKB = uint32(v)
	}
	if v, ok := paramUint(ev, "vm_swap"); ok {
		t.VmSwapKB = uint32(v)
	}
}
