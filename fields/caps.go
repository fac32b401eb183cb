package fields

import "github.com/gosysdig/gosysdig/state"

// capNames are the kernel's capability names by bit number (include/uapi/linux/capability.h),
// as libs prints thread.cap_* sets: the names of the set bits, space-separated, lowest first.
var capNames = [...]string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK",
	"CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
	"CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
	"CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
	"CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

// AppendCaps appends the names of the capabilities set in mask, space-separated.
func AppendCaps(dst []byte, mask uint64) []byte {
	first := true
	for i, n := range capNames {
		if mask&(1<<uint(i)) == 0 {
			continue
		}
		if !first {
			dst = append(dst, ' ')
		}
		first = false
		dst = append(dst, n...)
	}
	return dst
}

func capField(name, desc string, get func(t *state.Thread) uint64) *Field {
	return tfield(name, KString, desc+falcoOnly, func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) {
		if !t.CapsKnown {
			return Value{}, false
		}
		return bstr(c.keep(2, AppendCaps(c.buf(2), get(t))))
	})
}

func init() {
	register("thread",
		capField("thread.cap_permitted", "the thread's permitted capabilities, by name (from /proc, inherited on clone, set by every execve: later libs' execve exit parameters 21-23, which gosysdig's probe sends)",
			func(t *state.Thread) uint64 { return t.CapPermitted }),
		capField("thread.cap_effective", "the thread's effective capabilities, by name (from /proc, inherited on clone, set by every execve: later libs' execve exit parameters 21-23, which gosysdig's probe sends)",
			func(t *state.Thread) uint64 { return t.CapEffective }),
		capField("thread.cap_inheritable", "the thread's inheritable capabilities, by name (from /proc, inherited on clone, set by every execve: later libs' execve exit parameters 21-23, which gosysdig's probe sends)",
			func(t *state.Thread) uint64 { return t.CapInheritable }),
	)
}
