/* Process fillers: clone/fork/vfork/clone3 exit (clone_20 layout),
 * execve/execveat (execve_19 layout and later libs' capability sets,
 * parameters 21-23) and procexit. The 20-parameter
 * process events are built in three chained tail calls (proc_a -> proc_cwd
 * -> proc_b) so each program stays small for the verifier; the scratch
 * carries the partial event between them. */
#pragma once

#include "common.h"
#include "flags.h"
#include "task.h"

static __always_inline int is_clone_exit(u16 evt)
{
	return evt == 223 || evt == 225 || evt == 227 || evt == 335;
}

/* The path of the current task's cwd, a d_path-like walk of dentries
 * across mount points, at most CWD_DEPTH components. The walk runs under
 * bpf_loop: unrolled, its branches exceed the verifier's budget. */
#define CWD_DEPTH 32
struct cwd_ctx {
	struct dentry *d;
	struct vfsmount *vmnt;
	struct mount *mnt;
	u32 depth;
	const unsigned char *names[CWD_DEPTH];
};

/* Locals, not c->field, inside BPF_CORE_READ: the macro would make the
 * cwd_ctx access itself a CO-RE relocation, unresolvable in kernel BTF. */
static long cwd_step(u64 i, void *data)
{
	struct cwd_ctx *c = data;
	struct dentry *d = c->d;
	struct vfsmount *vmnt = c->vmnt;
	struct mount *mnt = c->mnt;
	struct dentry *root = BPF_CORE_READ(vmnt, mnt_root);
	struct dentry *parent = BPF_CORE_READ(d, d_parent);

	if (d == root || d == parent) {
		struct mount *mp = BPF_CORE_READ(mnt, mnt_parent);
		if (d != root || mp == mnt || !mp)
			return 1; /* reached the global root */
		c->d = BPF_CORE_READ(mnt, mnt_mountpoint);
		c->mnt = mp;
		c->vmnt = (struct vfsmount *)((void *)mp + bpf_core_field_offset(struct mount, mnt));
		return 0;
	}
	if (c->depth >= CWD_DEPTH)
		return 1;
	c->names[c->depth & (CWD_DEPTH - 1)] = BPF_CORE_READ(d, d_name.name);
	c->depth++;
	c->d = parent;
	return 0;
}

static __always_inline void push_cwd(struct scratch *s, struct task_struct *t)
{
	struct cwd_ctx c = {};
	u32 off = s->pos, len = 0;
	u32 depth;

	c.d = BPF_CORE_READ(t, fs, pwd.dentry);
	c.vmnt = BPF_CORE_READ(t, fs, pwd.mnt);
	if (!c.d || !c.vmnt) {
		push_empty(s);
		return;
	}
	c.mnt = (struct mount *)((void *)c.vmnt - bpf_core_field_offset(struct mount, mnt));
	bpf_loop(CWD_DEPTH * 2, cwd_step, &c, 0);
	depth = c.depth;
	if (depth == 0) {
		s->buf[off & EV_MASK] = '/';
		len = 1;
	}
	for (int i = CWD_DEPTH - 1; i >= 0; i--) {
		long n;
		if (i >= depth)
			continue;
		s->buf[(off + len) & EV_MASK] = '/';
		len++;
		n = bpf_probe_read_kernel_str(&s->buf[(off + len) & EV_MASK], 256, c.names[i]);
		len += (n - 1) & 255;
	}
	s->buf[(off + len) & EV_MASK] = 0;
	ev_param_done(s, (len + 1) & (MAX_PATH * 2 - 1));
}

/* cgroups: "subsys=path\0" for every subsystem of the task's css_set.
 * The per-subsystem work runs under bpf_loop so the verifier checks the
 * callback once instead of unrolling subsystems x path components. */
struct cg_ctx {
	struct scratch *s;
	struct css_set *cs;
	u32 off;
	u32 len;
};

static long cg_one(u64 i, void *data)
{
	struct cg_ctx *c = data;
	struct scratch *s = c->s;
	struct cgroup_subsys_state *css;
	u32 at;
	long n;

	if (i >= 16 || c->len > MAX_CGROUPS)
		return 1;
	/* Variable index: address computed by hand (a CO-RE accessor with a
	 * runtime index cannot be relocated). */
	bpf_probe_read_kernel(&css, sizeof(css),
			      (void *)c->cs + bpf_core_field_offset(struct css_set, subsys) + (i & 15) * sizeof(css));
	if (!css)
		return 0;
	at = c->off + c->len;
	n = bpf_probe_read_kernel_str(&s->buf[at & EV_MASK], 32, BPF_CORE_READ(css, ss, name));
	if (n <= 1)
		return 0;
	at += n - 1;
	s->buf[at & EV_MASK] = '=';
	at++;
	at += write_kernfs_path(s, at, BPF_CORE_READ(css, cgroup, kn));
	s->buf[at & EV_MASK] = 0;
	at++;
	c->len = (at - c->off) & (MAX_CGROUPS * 2 - 1);
	return 0;
}

static __always_inline void push_cgroups(struct scratch *s, struct task_struct *t)
{
	struct cg_ctx c = {
		.s = s,
		.cs = BPF_CORE_READ(t, cgroups),
		.off = s->pos,
		.len = 0,
	};
	int count = bpf_core_enum_value(enum cgroup_subsys_id, CGROUP_SUBSYS_COUNT);

	if (c.cs)
		bpf_loop(count < 16 ? count : 16, cg_one, &c, 0);
	ev_param_done(s, c.len & (MAX_CGROUPS * 2 - 1));
}

/* execve_flags of a successful exec, computed on sched_process_exec (the
 * only point where the new executable's struct file is at hand) and
 * consumed by the execve exit of the same thread. LRU: an exec whose exit
 * is never seen cannot leak entries. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, u32);
	__type(value, u32);
} exec_flags SEC(".maps");

#define PPM_EXE_WRITABLE 1
#define PPM_EXE_UPPER_LAYER 2
#define PPM_EXE_FROM_MEMFD 4
#define OVERLAYFS_SUPER_MAGIC 0x794c7630

/* Whether the current credentials may write the executable, following
 * generic_permission: read-only mount or immutable file -> no; fsuid 0
 * (CAP_DAC_OVERRIDE) -> yes; else owner, group, other write bits.
 * Supplementary groups and user-namespace capabilities are not
 * considered. */
static __always_inline u32 exe_writable(struct file *f)
{
	struct inode *ino = BPF_CORE_READ(f, f_inode);
	const struct cred *cred = BPF_CORE_READ(cur_task(), cred);
	u32 mode, fsuid;

	if (!ino)
		return 0;
	if (BPF_CORE_READ(ino, i_sb, s_flags) & 1 /* SB_RDONLY */)
		return 0;
	if (BPF_CORE_READ(ino, i_flags) & 8 /* S_IMMUTABLE */)
		return 0;
	mode = BPF_CORE_READ(ino, i_mode);
	fsuid = BPF_CORE_READ(cred, fsuid.val);
	if (fsuid == 0)
		return 1;
	if (fsuid == BPF_CORE_READ(ino, i_uid.val))
		return (mode & 0200) != 0;
	if (BPF_CORE_READ(cred, fsgid.val) == BPF_CORE_READ(ino, i_gid.val))
		return (mode & 0020) != 0;
	return (mode & 0002) != 0;
}

/* Whether the executable is a memfd (memfd_create): its dentry is named
 * "memfd:NAME" and it has no link in any file system. Later libs report
 * it as PPM_EXE_FROM_MEMFD (Falco's proc.is_exe_from_memfd); sysdig
 * 0.29.3 names no such bit and shows the flags it knows. */
static __always_inline u32 exe_from_memfd(struct file *f)
{
	const unsigned char *name = BPF_CORE_READ(f, f_path.dentry, d_name.name);
	char p[6] = {};

	if (!name || bpf_probe_read_kernel(p, sizeof(p), name) < 0)
		return 0;
	if (p[0] != 'm' || p[1] != 'e' || p[2] != 'm' || p[3] != 'f' || p[4] != 'd' || p[5] != ':')
		return 0;
	return BPF_CORE_READ(f, f_inode, i_nlink) == 0;
}

/* Whether the executable lives in an overlayfs upper layer (a container
 * wrote or copied it up) rather than in its image's lower layers. The
 * overlay inode embeds the VFS inode, directly followed by the upper
 * dentry (struct ovl_inode), which is set once the file exists above:
 * read past the inode, whose size the running kernel's BTF gives, so that
 * no overlayfs type (absent when overlay is a module) is needed. Later
 * libs report it as PPM_EXE_UPPER_LAYER (proc.is_exe_upper_layer). */
static __always_inline u32 exe_upper_layer(struct file *f)
{
	struct inode *ino = BPF_CORE_READ(f, f_inode);
	struct dentry *upper = NULL;

	if (!ino || BPF_CORE_READ(ino, i_sb, s_magic) != OVERLAYFS_SUPER_MAGIC)
		return 0;
	if (bpf_probe_read_kernel(&upper, sizeof(upper), (char *)ino + bpf_core_type_size(struct inode)) < 0)
		return 0;
	return upper != NULL;
}

static __always_inline int on_exec(struct linux_binprm *bprm)
{
	u32 tid = (u32)bpf_get_current_pid_tgid();
	u32 flags = 0;
	struct file *exe = BPF_CORE_READ(bprm, file);

	if (exe_writable(exe))
		flags |= PPM_EXE_WRITABLE;
	if (exe_from_memfd(exe))
		flags |= PPM_EXE_FROM_MEMFD;
	if (exe_upper_layer(exe))
		flags |= PPM_EXE_UPPER_LAYER;
	bpf_map_update_elem(&exec_flags, &tid, &flags, BPF_ANY);
	return 0;
}

static __always_inline u32 take_exec_flags(void)
{
	u32 tid = (u32)bpf_get_current_pid_tgid();
	u32 *f = bpf_map_lookup_elem(&exec_flags, &tid);
	u32 flags = 0;

	if (f) {
		flags = *f;
		bpf_map_delete_elem(&exec_flags, &tid);
	}
	return flags;
}

/* Copies the NUL-terminated strings of a user argv/envp array back to
 * back at the current position (at most MAX_ARGS bytes, like the mm copy)
 * without finishing a parameter. Used for failed execs, whose new image
 * does not exist: sysdig then reports the arguments the caller passed. */
#define MAX_ARGV_ITEMS 128
#define MAX_ARG_ITEM 1024
struct argv_ctx {
	struct scratch *s;
	u64 argv;
	u32 off;
	u32 len;
	u32 first; /* length of the first item, NUL included */
};

static long argv_one(u64 i, void *data)
{
	struct argv_ctx *c = data;
	struct scratch *s = c->s;
	const char *item = NULL;
	long n;

	if (c->len >= MAX_ARGS)
		return 1;
	if (bpf_probe_read_user(&item, sizeof(item), (void *)(c->argv + i * sizeof(item))) < 0 || !item)
		return 1;
	n = bpf_probe_read_user_str(&s->buf[(c->off + c->len) & EV_MASK], MAX_ARG_ITEM, item);
	if (n <= 0)
		return 1;
	if (i == 0)
		c->first = n;
	c->len += n;
	return 0;
}

static __always_inline void collect_argv(struct scratch *s, u64 argv, struct argv_ctx *c)
{
	c->s = s;
	c->argv = argv;
	c->off = s->pos;
	c->len = 0;
	c->first = 0;
	if (argv)
		bpf_loop(MAX_ARGV_ITEMS, argv_one, c, 0);
	c->len &= 2 * MAX_ARGS - 1;
	c->first &= MAX_ARG_ITEM * 2 - 1;
}

/* Stage 1: res, exe (argv[0]), args (the other argv items, each with its
 * NUL, like sysdig), tid, pid, ptid. After a successful exec or in a
 * clone they come from the process's mm; after a failed exec from the
 * argv the caller passed. No arguments: exe and args are both empty. */
FILLER(proc_a)
{
	SCRATCH_OR_RETURN(s);
	struct task_struct *t = cur_task();
	struct mm_struct *mm = BPF_CORE_READ(t, mm);
	u64 as = 0, ae = 0, total;
	u32 off;
	long n = 0;

	push_u64(s, s->ret);
	if (s->ret < 0 && (s->evt == 293 || s->evt == 331)) {
		struct argv_ctx c;
		collect_argv(s, s->evt == 293 ? s->args[1] : s->args[2], &c);
		if (c.len && c.first <= c.len) {
			ev_param_done(s, c.first);
			ev_param_done(s, c.len - c.first);
		} else {
			push_empty(s);
			push_empty(s);
		}
		goto ids;
	}
	if (mm) {
		as = BPF_CORE_READ(mm, arg_start);
		ae = BPF_CORE_READ(mm, arg_end);
	}
	total = ae > as ? ae - as : 0;
	if (total > MAX_ARGS)
		total = MAX_ARGS;
	off = s->pos & EV_MASK;
	if (total)
		n = bpf_probe_read_user_str(&s->buf[off], MAX_ARGS, (void *)as);
	if (n <= 0) {
		push_empty(s);
		push_empty(s);
		goto ids;
	}
	ev_param_done(s, n);
	if (total > (u64)n)
		push_user_bytes(s, as + n, total - n, MAX_ARGS);
	else
		push_empty(s);
ids:
	push_u64(s, BPF_CORE_READ(t, pid));
	push_u64(s, BPF_CORE_READ(t, tgid));
	push_u64(s, BPF_CORE_READ(t, real_parent, pid));
	bpf_tail_call(ctx, &fillers, SLOT_PROC_CWD);
	return ev_submit(s);
}

/* Stage 2: cwd. */
FILLER(proc_cwd)
{
	SCRATCH_OR_RETURN(s);
	push_cwd(s, cur_task());
	bpf_tail_call(ctx, &fillers, SLOT_PROC_B);
	return ev_submit(s);
}

static __always_inline s32 task_tty(struct task_struct *t)
{
	struct tty_struct *tty = BPF_CORE_READ(t, signal, tty);
	u32 major, minor;
	if (!tty)
		return 0;
	major = BPF_CORE_READ(tty, driver, major);
	minor = BPF_CORE_READ(tty, driver, minor_start) + BPF_CORE_READ(tty, index);
	return encode_dev((major << 20) | minor);
}

/* A kernel_cap_t as a 64-bit mask of capability bit numbers (later libs'
 * PPM_CAP_* bits are the kernel's). Read as 8 bytes at the member's
 * offset: kernels before 6.3 declare it u32 cap[2], later ones u64 val,
 * the same bytes on little-endian. */
static __always_inline u64 cred_caps(const struct cred *c, u32 off)
{
	u64 v = 0;

	if (c)
		bpf_probe_read_kernel(&v, sizeof(v), (const void *)c + off);
	return v;
}

/* Stage 3: fdlimit, page faults, vm, comm, cgroups, then the clone or
 * execve specific tail. */
FILLER(proc_b)
{
	SCRATCH_OR_RETURN(s);
	struct task_struct *t = cur_task();
	u64 *a = s->args;

	push_u64(s, BPF_CORE_READ(t, signal, rlim[7].rlim_cur)); /* RLIMIT_NOFILE */
	push_u64(s, BPF_CORE_READ(t, maj_flt));
	push_u64(s, BPF_CORE_READ(t, min_flt));
	push_vm(s, t);
	push_kernel_str(s, BPF_CORE_READ(t, comm), 16);
	push_cgroups(s, t);

	if (is_clone_exit(s->evt)) {
		u64 flags = 0;
		if (s->evt == 223)
			flags = a[0];
		else if (s->evt == 335)
			bpf_probe_read_user(&flags, sizeof(flags), (void *)a[0]);
		push_u32(s, clone_flags_to_scap(flags));
		push_u32(s, BPF_CORE_READ(t, cred, euid.val));
		push_u32(s, BPF_CORE_READ(t, cred, egid.val));
		push_u64(s, pid_vnr(BPF_CORE_READ(t, thread_pid)));
		push_u64(s, pid_vnr(BPF_CORE_READ(t, group_leader, thread_pid)));
	} else {
		/* execve/execveat: env, tty, pgid, loginuid, flags */
		struct mm_struct *mm = BPF_CORE_READ(t, mm);
		u64 es = 0, ee = 0;
		if (s->ret < 0) {
			/* failed exec: the envp the caller passed */
			struct argv_ctx c;
			collect_argv(s, s->evt == 293 ? a[2] : a[3], &c);
			ev_param_done(s, c.len);
		} else {
			if (mm) {
				es = BPF_CORE_READ(mm, env_start);
				ee = BPF_CORE_READ(mm, env_end);
			}
			push_user_bytes(s, es, ee > es ? ee - es : 0, MAX_ENV);
		}
		push_u32(s, task_tty(t));
		push_u64(s, pid_vnr(BPF_CORE_READ(t, signal, pids[2]))); /* PIDTYPE_PGID */
		push_u32(s, BPF_CORE_READ(t, loginuid.val));
		push_u32(s, s->ret == 0 ? take_exec_flags() : 0);
		/* Later libs' parameters 21-23: the capability sets of the
		 * credentials the exec left (it recomputes them from the file's
		 * capabilities, the uid change and the bounding set), which the
		 * state cannot derive from anything else. */
		const struct cred *cred = BPF_CORE_READ(t, cred);
		push_u64(s, cred_caps(cred, bpf_core_field_offset(struct cred, cap_inheritable)));
		push_u64(s, cred_caps(cred, bpf_core_field_offset(struct cred, cap_permitted)));
		push_u64(s, cred_caps(cred, bpf_core_field_offset(struct cred, cap_effective)));
	}
	return ev_submit(s);
}

/* procexit, from sched_process_exit: status, ret, sig, core decoded from
 * the exit code like the driver's. */
static __always_inline int emit_procexit(struct task_struct *t)
{
	SCRATCH_OR_RETURN(s);
	s64 code = BPF_CORE_READ(t, exit_code);

	ev_begin(s, 186);
	push_u64(s, code);
	push_u64(s, (code >> 8) & 0xff);
	push_u8(s, code & 0x7f);
	push_u8(s, (code & 0x80) != 0);
	return ev_submit(s);
}

/* Process-related enter/exit events with scalar parameters. */
FILLER(proc_misc)
{
	SCRATCH_OR_RETURN(s);
	u64 *a = s->args;
	s64 ret = s->ret;

	switch (s->evt) {
	case 292: /* execve E: filename */
		push_user_str(s, a[0], MAX_PATH);
		break;
	case 330: /* execveat E: dirfd, pathname, flags */
		push_s32_as_s64(s, a[0]);
		push_user_str(s, a[1], MAX_PATH);
		push_u32(s, execveat_flags_to_scap(a[4]));
		break;
	case 128: case 130: /* kill/tkill E: pid, sig */
		push_s32_as_s64(s, a[0]);
		push_u8(s, a[1]);
		break;
	case 132: /* tgkill E: pid, tid, sig */
		push_s32_as_s64(s, a[0]);
		push_s32_as_s64(s, a[1]);
		push_u8(s, a[2]);
		break;
	case 198: case 200: /* setuid/setgid E */
		push_u32(s, a[0]);
		break;
	case 192: case 194: /* setresuid/setresgid E */
		push_u32(s, a[0]);
		push_u32(s, a[1]);
		push_u32(s, a[2]);
		break;
	case 203: case 205: case 207: case 209: /* getuid... X: the id */
		push_u32(s, ret);
		break;
	case 211: case 213: /* getresuid/getresgid X: res, r, e, s */
	{
		u32 r = 0, e = 0, sv = 0;
		if (ret == 0) {
			bpf_probe_read_user(&r, 4, (void *)a[0]);
			bpf_probe_read_user(&e, 4, (void *)a[1]);
			bpf_probe_read_user(&sv, 4, (void *)a[2]);
		}
		push_u64(s, ret);
		push_u32(s, r);
		push_u32(s, e);
		push_u32(s, sv);
		break;
	}
	case 240: /* setns E: fd, nstype */
		push_s32_as_s64(s, a[0]);
		push_u32(s, clone_flags_to_scap(a[1]));
		break;
	case 284: /* unshare E: flags */
		push_u32(s, clone_flags_to_scap(a[0]));
		break;
	case 168: /* ptrace E: request, pid */
		push_u16(s, ptrace_request_to_scap(a[0]));
		push_s32_as_s64(s, a[1]);
		break;
	case 169: /* ptrace X: res, addr, data (PT_DYN ptrace_dynamic_param) */
	{
		u32 off;
		u64 req = a[0], data = a[3];
		push_u64(s, ret);
		off = s->pos;
		s->buf[off & EV_MASK] = 0; /* PT_UINT64 */
		*(u64 *)&s->buf[(off + 1) & EV_MASK] = a[2];
		ev_param_done(s, 9);
		off = s->pos;
		if (req == 7 || req == 24 || req == 9 || req == 17 || req == 31 || req == 32) {
			/* CONT, SYSCALL, SINGLESTEP, DETACH, SYSEMU*: a signal */
			s->buf[off & EV_MASK] = 1;
			s->buf[(off + 1) & EV_MASK] = data;
			ev_param_done(s, 2);
		} else {
			if ((req == 1 || req == 2 || req == 3) && ret >= 0)
				bpf_probe_read_user(&data, 8, (void *)a[3]);
			s->buf[off & EV_MASK] = 0;
			*(u64 *)&s->buf[(off + 1) & EV_MASK] = data;
			ev_param_done(s, 9);
		}
		break;
	}
	case 140: case 142: /* getrlimit/setrlimit E: resource */
		push_u8(s, rlimit_resource_to_scap(a[0]));
		break;
	case 141: case 143: /* getrlimit/setrlimit X: res, cur, max */
	{
		s64 lim[2] = {-1, -1};
		if (ret >= 0)
			bpf_probe_read_user(lim, sizeof(lim), (void *)a[1]);
		push_u64(s, ret);
		push_u64(s, lim[0]);
		push_u64(s, lim[1]);
		break;
	}
	case 144: /* prlimit E: pid, resource */
		push_s32_as_s64(s, a[0]);
		push_u8(s, rlimit_resource_to_scap(a[1]));
		break;
	case 145: /* prlimit X: res, newcur, newmax, oldcur, oldmax */
	{
		s64 nl[2] = {-1, -1}, ol[2] = {-1, -1};
		if (ret >= 0) {
			if (a[2])
				bpf_probe_read_user(nl, sizeof(nl), (void *)a[2]);
			if (a[3])
				bpf_probe_read_user(ol, sizeof(ol), (void *)a[3]);
		}
		push_u64(s, ret);
		push_u64(s, nl[0]);
		push_u64(s, nl[1]);
		push_u64(s, ol[0]);
		push_u64(s, ol[1]);
		break;
	}
	case 294: /* setpgid E: pid, pgid */
		push_s32_as_s64(s, a[0]);
		push_s32_as_s64(s, a[1]);
		break;
	}
	return ev_submit(s);
}
