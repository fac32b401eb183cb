//go:build ignore

/* gosysdig live probe: raw_syscalls sys_enter/sys_exit and sched process
 * fork/exec/exit raw tracepoints, emitting sysdig 0.29.3 scap events into a
 * ring buffer. See ../probe.go (package doc) for the record layout.
 *
 * Flow per syscall: the dispatcher (sys_enter/sys_exit) drops the events
 * of ignored processes and of unwanted types first (cheapest checks),
 * copies the arguments from pt_regs into the per-CPU scratch, writes the
 * header, and tail-calls the filler registered for the event id. Event
 * ids without a filler only carry `res` (exit) or nothing (enter); any
 * parameter a filler leaves unwritten is zero-filled to the 0.29.3 shape. */

#include "common.h"
#include "flags.h"
#include "task.h"

#define SLOT_PROC_CWD 400
#define SLOT_PROC_B 401

#define DECL(name) int fill_##name(struct bpf_raw_tracepoint_args *ctx)
DECL(open);
DECL(rwv);
DECL(path);
DECL(fd);
DECL(net);
DECL(sockopt);
DECL(proc_a);
DECL(proc_cwd);
DECL(proc_b);
DECL(proc_misc);
DECL(misc);

/* Tail-call table: event id -> filler (several ids share one program),
 * plus the chained stages of the process events above the id range.
 * Initialised statically; cilium/ebpf resolves the program references at
 * load. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, EV_MAX_ID);
	__type(key, u32);
	__array(values, int(struct bpf_raw_tracepoint_args *));
} fillers SEC(".maps") = {
	.values = {
		/* fs.h */
		[2] = &fill_open, [3] = &fill_open, [58] = &fill_open, [59] = &fill_open,
		[306] = &fill_open, [307] = &fill_open, [326] = &fill_open, [327] = &fill_open,
		[116] = &fill_rwv, [117] = &fill_rwv, [118] = &fill_rwv, [119] = &fill_rwv,
		[120] = &fill_rwv, [121] = &fill_rwv, [122] = &fill_rwv, [123] = &fill_rwv,
		[67] = &fill_path, [69] = &fill_path, [73] = &fill_path, [75] = &fill_path,
		[93] = &fill_path, [95] = &fill_path, [175] = &fill_path, [177] = &fill_path,
		[179] = &fill_path, [181] = &fill_path, [256] = &fill_path, [257] = &fill_path,
		[258] = &fill_path, [259] = &fill_path, [264] = &fill_path, [265] = &fill_path,
		[267] = &fill_path, [276] = &fill_path, [277] = &fill_path, [279] = &fill_path,
		[301] = &fill_path, [303] = &fill_path, [305] = &fill_path, [309] = &fill_path,
		[311] = &fill_path, [313] = &fill_path, [315] = &fill_path, [317] = &fill_path,
		[319] = &fill_path,
		[4] = &fill_fd, [20] = &fill_fd, [52] = &fill_fd, [61] = &fill_fd,
		[70] = &fill_fd, [86] = &fill_fd, [96] = &fill_fd, [124] = &fill_fd,
		[150] = &fill_fd, [166] = &fill_fd, [170] = &fill_fd, [188] = &fill_fd,
		[189] = &fill_fd, [236] = &fill_fd, [238] = &fill_fd, [242] = &fill_fd,
		[321] = &fill_fd, [332] = &fill_fd, [333] = &fill_fd,
		/* net.h */
		[18] = &fill_net, [21] = &fill_net, [22] = &fill_net, [23] = &fill_net,
		[24] = &fill_net, [28] = &fill_net, [29] = &fill_net, [30] = &fill_net,
		[31] = &fill_net, [32] = &fill_net, [33] = &fill_net, [34] = &fill_net,
		[35] = &fill_net, [36] = &fill_net, [42] = &fill_net, [43] = &fill_net,
		[48] = &fill_net, [49] = &fill_net, [53] = &fill_net, [247] = &fill_net,
		[248] = &fill_net, [249] = &fill_net,
		[45] = &fill_sockopt, [47] = &fill_sockopt,
		/* proc.h */
		[223] = &fill_proc_a, [225] = &fill_proc_a, [227] = &fill_proc_a,
		[335] = &fill_proc_a, [293] = &fill_proc_a, [331] = &fill_proc_a,
		[SLOT_PROC_CWD] = &fill_proc_cwd, [SLOT_PROC_B] = &fill_proc_b,
		[292] = &fill_proc_misc, [330] = &fill_proc_misc, [128] = &fill_proc_misc,
		[130] = &fill_proc_misc, [132] = &fill_proc_misc, [198] = &fill_proc_misc,
		[200] = &fill_proc_misc, [192] = &fill_proc_misc, [194] = &fill_proc_misc,
		[203] = &fill_proc_misc, [205] = &fill_proc_misc, [207] = &fill_proc_misc,
		[209] = &fill_proc_misc, [211] = &fill_proc_misc, [213] = &fill_proc_misc,
		[240] = &fill_proc_misc, [284] = &fill_proc_misc, [168] = &fill_proc_misc,
		[169] = &fill_proc_misc, [140] = &fill_proc_misc, [141] = &fill_proc_misc,
		[142] = &fill_proc_misc, [143] = &fill_proc_misc, [144] = &fill_proc_misc,
		[145] = &fill_proc_misc, [294] = &fill_proc_misc,
		/* misc.h */
		[158] = &fill_misc, [159] = &fill_misc, [160] = &fill_misc, [161] = &fill_misc,
		[164] = &fill_misc, [165] = &fill_misc, [328] = &fill_misc, [296] = &fill_misc,
		[297] = &fill_misc, [298] = &fill_misc, [134] = &fill_misc, [64] = &fill_misc,
		[62] = &fill_misc, [126] = &fill_misc, [136] = &fill_misc, [138] = &fill_misc,
		[78] = &fill_misc, [80] = &fill_misc, [81] = &fill_misc, [254] = &fill_misc,
		[255] = &fill_misc, [262] = &fill_misc, [250] = &fill_misc, [251] = &fill_misc,
		[252] = &fill_misc,
	},
};

#include "fs.h"
#include "net.h"
#include "proc.h"
#include "misc.h"

/* Header of a read/write fast-path record built on the BPF stack (cpu +
 * scap v2 header), for a record of `size` bytes (cpu prefix included) with
 * nparams parameters. The record starts 6 bytes into an 8-aligned buffer
 * (RW_REC) so that the u64 header fields are aligned: the verifier rejects
 * misaligned stack stores, and __builtin_memcpy at a constant offset lets
 * clang use the widest store the alignment allows. */
#define RW_REC 6
#define STK_ST(buf, off, v)                                          \
	do {                                                         \
		__typeof__(v) _v = (v);                              \
		__builtin_memcpy(&(buf)[RW_REC + (off)], &_v, sizeof(_v)); \
	} while (0)

static __always_inline u64 now_ns(void)
{
	return bpf_ktime_get_ns() + clock_offset_ns;
}

static __always_inline void rw_header(u8 *buf, u32 evt, u32 nparams, u32 size, u64 tid, u64 ts)
{
	STK_ST(buf, 0, (u16)bpf_get_smp_processor_id());
	STK_ST(buf, 2, ts);
	STK_ST(buf, 10, tid);
	STK_ST(buf, 18, (u32)(size - 2));
	STK_ST(buf, 22, (u16)evt);
	STK_ST(buf, 24, (u32)nparams);
}

/* Copies size bytes (one event, or an enter and its exit back to back)
 * into the ring as one record and counts its nevents events as sent or
 * dropped. */
static __always_inline void rw_output(void *data, u32 size, u32 nevents)
{
	u32 key = CNT_EVENTS;
	u64 *cnt = bpf_map_lookup_elem(&counters, &key);

	if (bpf_ringbuf_output(&events, data, size, ring_wake_flags(cnt)) < 0) {
		key = CNT_DROPS;
		cnt = bpf_map_lookup_elem(&counters, &key);
	}
	if (cnt)
		*cnt += nevents;
}

/* read/write/pread/pwrite exits keep data of up to RW_FAST_DATA bytes in
 * the fast path; longer data (a snaplen above it) goes through the
 * scratch. */
#define RW_FAST_DATA 128
#define RW_X_FIXED 40 /* cpu 2 + header 26 + lens 4 + res 8 */
#define RW_E_MAX 54   /* pread/pwrite enter: cpu 2 + header 26 + lens 6 + 20 */

/* The enter event of a read/write/pread/pwrite, held back per CPU until
 * its exit so that both go into the ring as one record: one ring
 * reservation instead of two, and the exit needs neither the task nor
 * its registers (the enter kept tid and arguments). The hold never
 * outlives the task's time on the CPU: sched_switch sends a held enter
 * alone when its task is switched out (a read that blocks shows its enter
 * at once), so at an exit a held enter is always the current task's.
 * Events of other CPUs may reach the ring ahead of a held enter by the
 * duration of the call, as they do ahead of any event whose filler runs
 * long. */
struct held_enter {
	u8 rec[RW_REC + RW_E_MAX + 4] __attribute__((aligned(8)));
	u64 tid;
	u64 ubuf;  /* data buffer argument */
	u64 count; /* size argument */
	u32 size;  /* bytes of the record in rec (after RW_REC); 0: none */
	u32 evt;   /* enter event id */
};

/* Per-CPU state: the held enter, and the ids of the task running on the
 * CPU, recorded by sched_switch when it switches the task in, so that the
 * dispatcher does not have to ask for the current task (a helper call).
 * task_known is 0 until the CPU's first switch after attach; on exec the
 * ids are refreshed (a thread that execs takes the leader's pid). */
struct cpu_state {
	struct held_enter held;
	u32 pid;
	u32 tgid;
	u32 task_known;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* set from Go to the number of possible CPUs */
	__type(key, u32);
	__type(value, struct cpu_state);
} cpu_state_map SEC(".maps");

static __always_inline struct cpu_state *cpu_state(void)
{
	u32 cpu = bpf_get_smp_processor_id();
	return bpf_map_lookup_elem(&cpu_state_map, &cpu);
}

/* bpf_rdonly_cast (kernel 6.2+; __weak: absent on older kernels, where
 * bpf_ksym_exists is false and the verifier drops the branch that calls
 * it) turns a kernel address into a pointer the program may read with
 * plain loads. The verifier replaces the call by a register move, so the
 * registers of the raw_syscalls tracepoints (their first argument) and the
 * task switched in by sched_switch are read without any helper call. */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;
#define ksym_exists(sym) (!!(sym))
#define core_cast(ptr, type) ((type *)bpf_rdonly_cast((void *)(ptr), bpf_core_type_id_kernel(type)))

/* 0 makes the probe take the path of kernels without bpf_rdonly_cast
 * (tests set it to cover that path here). */
volatile const u32 use_core_cast = 1;

static __always_inline int can_cast(void)
{
	return use_core_cast && ksym_exists(bpf_rdonly_cast);
}

/* Sends a held enter on its own. */
static __always_inline void held_flush(struct held_enter *h)
{
	u32 size = h->size;

	h->size = 0;
	if (size > RW_E_MAX)
		size = RW_E_MAX;
	rw_output(&h->rec[RW_REC], size, 1);
}

/* Writes the enter event of a read/write/pread/pwrite into the CPU's hold. */
static __always_inline void held_store(struct held_enter *h, struct pt_regs *regs, u32 evt, u64 tid)
{
	u64 fd = (s64)(s32)regs->di;
	u32 count = (u32)regs->dx;
	u8 *buf = h->rec;

	if (h->size)
		held_flush(h); /* not expected: the previous exit consumes it */
	if (evt == 112 || evt == 114) {
		/* pread/pwrite E: fd, size, pos */
		rw_header(buf, evt, 3, 54, tid, now_ns());
		STK_ST(buf, 28, (u16)8);
		STK_ST(buf, 30, (u16)4);
		STK_ST(buf, 32, (u16)8);
		STK_ST(buf, 34, fd);
		STK_ST(buf, 42, count);
		STK_ST(buf, 46, (u64)regs->r10);
		h->size = 54;
	} else {
		/* read/write E: fd, size */
		rw_header(buf, evt, 2, 44, tid, now_ns());
		STK_ST(buf, 28, (u16)8);
		STK_ST(buf, 30, (u16)4);
		STK_ST(buf, 32, fd);
		STK_ST(buf, 40, count);
		h->size = 44;
	}
	h->tid = tid;
	h->ubuf = regs->si;
	h->count = regs->dx;
	h->evt = evt;
}

/* The number of data bytes an exit keeps: a failed write still shows
 * what it tried to write (like the sysdig probe); a failed read shows
 * nothing. */
static __always_inline s64 rw_data_len(u32 evt, s64 ret, u64 ubuf, u64 count)
{
	s64 n = ret;
	u32 cap = snaplen;

	if (cap > MAX_SNAPLEN)
		cap = MAX_SNAPLEN;
	if ((evt == 9 || evt == 115) && n <= 0)
		n = count;
	if (n <= 0 || !ubuf)
		n = 0;
	if (n > cap)
		n = cap;
	return n;
}

/* Builds a read/write exit record (res, data) at buf[RW_REC + off], with
 * off a constant so that clang picks aligned stores, and returns its size.
 * The data is read from user memory straight into the stack: the kernel's
 * hardened-usercopy check costs much more for ring or map memory. */
static __always_inline u32 rw_exit_at(u8 *buf, const u32 off, u32 evt, u64 tid, s64 ret, u64 ubuf, s64 n)
{
	u64 ts = now_ns(); /* first: the time of the exit, not of the copy */

	if (n > RW_FAST_DATA)
		n = RW_FAST_DATA; /* callers checked; this bounds it for the verifier */
	if (n > 0 && bpf_probe_read_user(&buf[RW_REC + off + RW_X_FIXED], n, (void *)ubuf) < 0)
		n = 0;
	rw_header(buf + off, evt, 2, RW_X_FIXED + n, tid, ts);
	STK_ST(buf, off + 28, (u16)8);
	STK_ST(buf, off + 30, (u16)n);
	STK_ST(buf, off + 32, (u64)ret);
	return RW_X_FIXED + n;
}

/* Exit of the held enter h: both go into the ring as one record. Returns
 * 1 when done, 0 when the exit needs the generic path (its data is longer
 * than RW_FAST_DATA; the enter has been sent alone). */
static __always_inline int held_exit(struct held_enter *h, s64 ret)
{
	u8 buf[RW_REC + RW_E_MAX + 2 + RW_X_FIXED + RW_FAST_DATA] __attribute__((aligned(8)));
	u32 evt = h->evt + 1, esize = h->size;
	u64 *src = (u64 *)h->rec, *dst = (u64 *)buf;
	s64 n;

	if (!type_wanted(evt)) {
		held_flush(h);
		return 1;
	}
	n = rw_data_len(evt, ret, h->ubuf, h->count);
	if (n > RW_FAST_DATA) {
		held_flush(h);
		return 0;
	}
	h->size = 0;
	/* The enter record (RW_REC + at most 54 bytes) in whole words. */
	for (int i = 0; i < (RW_REC + RW_E_MAX + 7) / 8; i++)
		dst[i] = src[i];
	if (esize == 54)
		rw_output(&buf[RW_REC], 54 + rw_exit_at(buf, 54, evt, h->tid, ret, h->ubuf, n), 2);
	else
		rw_output(&buf[RW_REC], 44 + rw_exit_at(buf, 44, evt, h->tid, ret, h->ubuf, n), 2);
	return 1;
}

/* An exit of read/write/pread/pwrite whose enter was not held (its type
 * was not wanted): built on the stack. Returns 0 for the generic path. */
static __always_inline int rw_exit_alone(struct pt_regs *regs, u32 evt, u64 tid, s64 ret)
{
	u8 buf[RW_REC + RW_X_FIXED + RW_FAST_DATA] __attribute__((aligned(8)));
	s64 n = rw_data_len(evt, ret, regs->si, regs->dx);

	if (n > RW_FAST_DATA)
		return 0;
	rw_output(&buf[RW_REC], rw_exit_at(buf, 0, evt, tid, ret, regs->si, n), 1);
	return 1;
}

/* The registers of the system call (the raw_syscalls tracepoints' first
 * argument). task is the current task, or NULL if not looked up yet. */
static __always_inline struct pt_regs *syscall_regs(struct bpf_raw_tracepoint_args *ctx, struct task_struct *task)
{
	if (can_cast())
		return core_cast(ctx->args[0], struct pt_regs);
	if (!task)
		task = bpf_get_current_task_btf();
	return (struct pt_regs *)bpf_task_pt_regs(task);
}

/* Helper calls are most of the per-event cost, so the dispatcher makes as
 * few as it can. The task's ids come from the CPU state sched_switch
 * keeps (else from bpf_get_current_task_btf), the registers from the
 * tracepoint's pt_regs argument through bpf_rdonly_cast (else through
 * bpf_task_pt_regs; on x86-64 the argument is the current task's
 * task_pt_regs) with plain loads instead of bpf_probe_read_kernel copies.
 * Ignored processes and unwanted types are dropped before anything else.
 * read/write/pread/pwrite, the most frequent calls, are built on the
 * stack, the enter held until its exit (held_enter), and both sent as one
 * ring record. */
static __always_inline int dispatch(struct bpf_raw_tracepoint_args *ctx, int enter)
{
	struct task_struct *task = NULL;
	struct pt_regs *regsp = NULL;
	struct cpu_state *c = cpu_state();
	struct scratch *s;
	u64 nr, pid_tgid;
	u32 evt, ppm_sc = 0, pid, tgid;

	if (!c)
		return 0;
	if (!enter && c->held.size && held_exit(&c->held, (s64)ctx->args[1]))
		return 0;
	if (c->task_known) {
		/* volatile: clang would otherwise merge these loads with the
		 * task's below into one instruction on two pointer types,
		 * which the verifier rejects. */
		pid = *(volatile u32 *)&c->pid;
		tgid = *(volatile u32 *)&c->tgid;
	} else {
		task = bpf_get_current_task_btf();
		pid = task->pid;
		tgid = task->tgid;
	}
	if (tgid_ignored(tgid))
		return 0;
	if (enter) {
		nr = ctx->args[1];
	} else {
		regsp = syscall_regs(ctx, task);
		nr = regsp->orig_ax;
	}

	/* Like the sysdig driver, numbers outside the table (x32 calls, or
	 * orig_ax -1 on the exit of rt_sigreturn) produce no event. */
	if (nr >= SC_MAX)
		return 0;
	evt = enter ? sc_table[nr].enter : sc_table[nr].exit;
	ppm_sc = sc_table[nr].ppm_sc;
	if (!type_wanted(evt))
		return 0;

	if (enter) /* only now: the checks above do not need it */
		regsp = syscall_regs(ctx, task);
	if (is_rw(evt)) {
		if (enter) {
			held_store(&c->held, regsp, evt, pid);
			return 0;
		}
		if (rw_exit_alone(regsp, evt, pid, (s64)ctx->args[1]))
			return 0;
	}
	s = get_scratch();
	if (!s)
		return 0;
	pid_tgid = (u64)tgid << 32 | pid;
	ev_begin_tid(s, evt, pid_tgid);
	if (is_rw(evt)) {
		u64 a[4] = {regsp->di, regsp->si, regsp->dx, 0};
		if (evt == 112 || evt == 114)
			a[3] = regsp->r10;
		fill_rw_params(s, evt, enter, a, enter ? 0 : (s64)ctx->args[1]);
		return ev_submit(s);
	}
	s->enter = enter;
	s->nr = nr;
	s->ret = enter ? 0 : ctx->args[1];
	s->args[0] = regsp->di;
	s->args[1] = regsp->si;
	s->args[2] = regsp->dx;
	s->args[3] = regsp->r10;
	s->args[4] = regsp->r8;
	s->args[5] = regsp->r9;

	if (evt <= 1) {
		/* generic: ID = ppm_sc code; the enter event also has nativeID */
		push_u16(s, ppm_sc);
		if (enter)
			push_u16(s, nr);
		return ev_submit(s);
	}
	bpf_tail_call(ctx, &fillers, evt);
	/* No filler: the exit's first parameter is its return value. */
	if (!enter && s->nparams && ev_table[evt & (EV_MAX_ID - 1)].sizes[0] == 8)
		push_u64(s, s->ret);
	return ev_submit(s);
}

SEC("raw_tracepoint/sys_enter")
int sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	return dispatch(ctx, 1);
}

SEC("raw_tracepoint/sys_exit")
int sys_exit(struct bpf_raw_tracepoint_args *ctx)
{
	return dispatch(ctx, 0);
}

/* A task leaving the CPU takes no held enter with it (see held_enter),
 * and the CPU state records the ids of the task switched in. */
SEC("raw_tracepoint/sched_switch")
int sched_switch(struct bpf_raw_tracepoint_args *ctx)
{
	struct cpu_state *c = cpu_state();

	if (!c)
		return 0;
	if (c->held.size)
		held_flush(&c->held);
	if (can_cast()) {
		struct task_struct *next = core_cast(ctx->args[2], struct task_struct);
		c->pid = next->pid;
		c->tgid = next->tgid;
	} else {
		struct task_struct *next = (struct task_struct *)ctx->args[2];
		c->pid = BPF_CORE_READ(next, pid);
		c->tgid = BPF_CORE_READ(next, tgid);
	}
	c->task_known = 1;
	return 0;
}

/* Run by Probe.Stop on every CPU (BPF_PROG_TEST_RUN with
 * BPF_F_TEST_RUN_ON_CPU) once the tracepoints are detached: sends the
 * enters still held, whose tasks were inside read/write at that moment. */
SEC("raw_tracepoint")
int flush_held(struct bpf_raw_tracepoint_args *ctx)
{
	struct cpu_state *c = cpu_state();

	if (c && c->held.size)
		held_flush(&c->held);
	return 0;
}

/* Children of ignored processes are ignored too: the tgid is added here,
 * in the parent's context and before the child first runs, so none of its
 * events (not even its clone exit) is sent. */
SEC("raw_tracepoint/sched_process_fork")
int sched_process_fork(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *parent = (struct task_struct *)ctx->args[0];
	struct task_struct *child = (struct task_struct *)ctx->args[1];
	u32 ptgid = BPF_CORE_READ(parent, tgid);
	u32 ctgid = BPF_CORE_READ(child, tgid);
	u8 one = 1;

	if (ctgid != ptgid && tgid_ignored(ptgid) &&
	    bpf_map_update_elem(&excluded, &ctgid, &one, BPF_NOEXIST) == 0)
		__sync_fetch_and_add(&excluded_count, 1);
	return 0;
}

/* procexit for every exiting thread; also forgets an ignored process when
 * its group leader exits. */
SEC("raw_tracepoint/sched_process_exit")
int sched_process_exit(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *t = (struct task_struct *)ctx->args[0];
	u32 tgid = BPF_CORE_READ(t, tgid);

	if (tgid_ignored(tgid)) {
		if (BPF_CORE_READ(t, pid) == tgid && bpf_map_delete_elem(&excluded, &tgid) == 0)
			__sync_fetch_and_add(&excluded_count, -1);
		return 0;
	}
	if (!type_wanted(186))
		return 0;
	return emit_procexit(t);
}

/* Computes the execve flags of the new image (see on_exec). */
SEC("raw_tracepoint/sched_process_exec")
int sched_process_exec(struct bpf_raw_tracepoint_args *ctx)
{
	u64 pid_tgid = bpf_get_current_pid_tgid();
	struct cpu_state *c = cpu_state();

	/* de_thread may have given this thread the leader's pid. */
	if (c) {
		c->pid = (u32)pid_tgid;
		c->tgid = pid_tgid >> 32;
		c->task_known = 1;
	}
	if (tgid_ignored(pid_tgid >> 32) ||
	    (!type_wanted(293) && !type_wanted(331)))
		return 0;
	return on_exec((struct linux_binprm *)ctx->args[2]);
}
