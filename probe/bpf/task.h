/* Kernel-structure readers (CO-RE): fds, files, memory counters, pids in
 * namespaces, and path walks. All reads go through BPF_CORE_READ so field
 * offsets are relocated against the running kernel's BTF at load. */
#pragma once

#include "common.h"

#define L_S_IFMT 0170000
#define L_S_IFSOCK 0140000

static __always_inline struct task_struct *cur_task(void)
{
	return (struct task_struct *)bpf_get_current_task();
}

/* struct file of fd in the current task, or NULL. */
static __always_inline struct file *fd_file(s64 fd)
{
	struct task_struct *t = cur_task();
	struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
	struct file **fds;
	struct file *f = NULL;

	if (fd < 0 || !fdt)
		return NULL;
	if (fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return f;
}

/* Linux new_encode_dev: the st_dev userspace sees, what /proc shows. */
static __always_inline u32 encode_dev(u32 dev)
{
	u32 major = dev >> 20, minor = dev & 0xfffff;
	return (minor & 0xff) | (major << 8) | ((minor & ~0xffU) << 12);
}

static __always_inline u32 file_dev(struct file *f)
{
	if (!f)
		return 0;
	return encode_dev(BPF_CORE_READ(f, f_inode, i_sb, s_dev));
}

static __always_inline u64 file_ino(struct file *f)
{
	if (!f)
		return 0;
	return BPF_CORE_READ(f, f_inode, i_ino);
}

/* The struct socket behind fd, or NULL when fd is not a socket. */
static __always_inline struct socket *fd_socket(s64 fd)
{
	struct file *f = fd_file(fd);
	if (!f)
		return NULL;
	if ((BPF_CORE_READ(f, f_inode, i_mode) & L_S_IFMT) != L_S_IFSOCK)
		return NULL;
	return BPF_CORE_READ(f, private_data);
}

/* mm counters in KiB, like /proc/PID/status VmSize/VmRSS/VmSwap. The
 * per-CPU counters are read through their shared count (a slightly
 * stale but cheap approximation, as the sysdig driver does). */
enum { L_MM_FILEPAGES, L_MM_ANONPAGES, L_MM_SWAPENTS, L_MM_SHMEMPAGES };

static __always_inline s64 mm_counter(struct mm_struct *mm, int i)
{
	s64 v = 0;
	if (bpf_core_field_exists(mm->rss_stat[0].count))
		v = BPF_CORE_READ(mm, rss_stat[i].count);
	return v < 0 ? 0 : v;
}

struct vm_stats {
	u32 size_kb, rss_kb, swap_kb;
};

static __always_inline void read_vm(struct task_struct *t, struct vm_stats *vm)
{
	struct mm_struct *mm = BPF_CORE_READ(t, mm);

	vm->size_kb = vm->rss_kb = vm->swap_kb = 0;
	if (!mm)
		return;
	/* PAGE_SHIFT 12 -> KiB: << 2 */
	vm->size_kb = BPF_CORE_READ(mm, total_vm) << 2;
	vm->rss_kb = (mm_counter(mm, L_MM_FILEPAGES) + mm_counter(mm, L_MM_ANONPAGES) +
		      mm_counter(mm, L_MM_SHMEMPAGES)) << 2;
	vm->swap_kb = mm_counter(mm, L_MM_SWAPENTS) << 2;
}

static __always_inline void push_vm(struct scratch *s, struct task_struct *t)
{
	struct vm_stats vm;
	read_vm(t, &vm);
	push_u32(s, vm.size_kb);
	push_u32(s, vm.rss_kb);
	push_u32(s, vm.swap_kb);
}

/* pid number of `pid` as seen from its own (deepest) namespace. */
static __always_inline s64 pid_vnr(struct pid *pid)
{
	u32 level;
	if (!pid)
		return 0;
	level = BPF_CORE_READ(pid, level);
	return BPF_CORE_READ(pid, numbers[level & 31].nr);
}

/* Writes the path of kernfs node kn ("/a/b"; "/" for the root) at the
 * current position without finishing the parameter; returns its length
 * without NUL. Cgroup paths are short: 16 levels are enough. */
#define KN_DEPTH 16
static __always_inline u32 write_kernfs_path(struct scratch *s, u32 at, struct kernfs_node *kn)
{
	struct kernfs_node *chain[KN_DEPTH];
	int depth = 0;
	u32 len = 0;

	for (int i = 0; i < KN_DEPTH; i++) {
		struct kernfs_node *parent;
		if (!kn)
			break;
		parent = BPF_CORE_READ(kn, __parent);
		if (!parent)
			break; /* the root contributes no name */
		chain[i] = kn;
		depth = i + 1;
		kn = parent;
	}
	if (depth == 0) {
		s->buf[at & EV_MASK] = '/';
		return 1;
	}
	/* Branch-free accumulation: a data-dependent branch per component
	 * would multiply the verifier's states. */
	for (int i = KN_DEPTH - 1; i >= 0; i--) {
		long n;
		if (i >= depth)
			continue;
		s->buf[(at + len) & EV_MASK] = '/';
		len++;
		n = bpf_probe_read_kernel_str(&s->buf[(at + len) & EV_MASK], 256,
					      BPF_CORE_READ(chain[i], name));
		len += (n - 1) & 255;
	}
	return len & 4095;
}
