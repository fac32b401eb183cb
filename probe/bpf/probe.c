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

/* Stores into a ring-buffer record at a constant byte offset. After the
 * u16 cpu prefix the record's fields are not naturally aligned, and clang
 * splits a plain store it cannot prove aligned into single bytes; x86-64
 * and the verifier (no strict alignment there) take unaligned stores. */
#define REC_ST(sz, rec, off, v) \
	asm volatile("*(" #sz " *)(%0 + " #off ") = %1" ::"r"(rec), "r"((u64)(v)) : "memory")

/* Header of a ring record (cpu + scap v2 header), for a record of `size`
 * bytes (cpu prefix included) with nparams parameters. */
static __always_inline void rec_header(void *rec, u32 evt, u32 nparams, u32 size, u64 tid)
{
	REC_ST(u16, rec, 0, bpf_get_smp_processor_id());
	REC_ST(u64, rec, 2, bpf_ktime_get_boot_ns() + boot_offset_ns);
	REC_ST(u64, rec, 10, tid);
	REC_ST(u32, rec, 18, size - 2);
	REC_ST(u16, rec, 22, evt);
	REC_ST(u32, rec, 24, nparams);
}

/* Submit flags, as in ev_submit: a wakeup only when the ring is half
 * full, checked every 64th event of a CPU (cnt: its sent events). */
static __always_inline u64 rec_wake_flags(u64 *cnt)
{
	if (cnt && (*cnt & 63) == 0 &&
	    bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) > bpf_ringbuf_query(&events, BPF_RB_RING_SIZE) / 2)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

/* Counts a sent event (ok) or a failed reservation. */
static __always_inline void rec_count(u64 *cnt, int ok)
{
	u32 key = CNT_DROPS;
	if (!ok)
		cnt = bpf_map_lookup_elem(&counters, &key);
	if (cnt)
		*cnt += 1;
}

/* read/write/pread/pwrite exits keep data of up to RW_FAST_DATA bytes in
 * the fast path; longer data (a snaplen above it) goes through the
 * scratch. The record is reserved in one of a few size classes and the
 * event's len field gives its real size: Next drops the padding. */
#define RW_FAST_DATA 128
#define RW_X_FIXED 40 /* cpu 2 + header 26 + lens 4 + res 8 */

/* A read/write-like exit with n (0..cap) data bytes at ubuf. */
#define RW_EXIT_CLASS(cap)                                                          \
	if (n <= cap) {                                                             \
		rec = bpf_ringbuf_reserve(&events, RW_X_FIXED + cap, 0);            \
		if (!rec)                                                           \
			break;                                                      \
		if (n > 0 && bpf_probe_read_user(rec + RW_X_FIXED, n, (void *)ubuf) < 0) \
			n = 0;                                                      \
		break;                                                              \
	}

/* The most frequent system calls (read, write, pread, pwrite), written
 * straight into a ring reservation of their exact (enter) or size-class
 * (exit) size: no scratch buffer, no per-parameter bookkeeping, no copy
 * from scratch to ring. Returns 1 when done, 0 when the event needs the
 * generic path (data longer than RW_FAST_DATA). */
static __always_inline int rw_fast(struct pt_regs *regs, u32 evt, int enter, u64 tid, s64 ret)
{
	u32 key = CNT_EVENTS;
	u64 *cnt = bpf_map_lookup_elem(&counters, &key);
	u64 flags = rec_wake_flags(cnt);
	u8 *rec;

	if (enter) {
		u64 fd = (s64)(s32)regs->di;
		u64 size = (u32)regs->dx;
		if (evt == 112 || evt == 114) {
			/* pread/pwrite E: fd, size, pos */
			u64 pos = regs->r10;
			rec = bpf_ringbuf_reserve(&events, 54, 0);
			if (!rec)
				goto drop;
			rec_header(rec, evt, 3, 54, tid);
			REC_ST(u64, rec, 28, 8 | 4 << 16 | (u64)8 << 32);
			REC_ST(u64, rec, 34, fd);
			REC_ST(u32, rec, 42, size);
			REC_ST(u64, rec, 46, pos);
		} else {
			/* read/write E: fd, size */
			rec = bpf_ringbuf_reserve(&events, 44, 0);
			if (!rec)
				goto drop;
			rec_header(rec, evt, 2, 44, tid);
			REC_ST(u32, rec, 28, 8 | 4 << 16);
			REC_ST(u64, rec, 32, fd);
			REC_ST(u32, rec, 40, size);
		}
	} else {
		/* X: res, data. A failed write still shows what it tried to
		 * write (like the sysdig probe); a failed read shows nothing. */
		u64 ubuf = regs->si;
		s64 n = ret;
		u32 cap = snaplen;

		if (cap > MAX_SNAPLEN)
			cap = MAX_SNAPLEN;
		if ((evt == 9 || evt == 115) && n <= 0)
			n = regs->dx;
		if (n <= 0 || !ubuf)
			n = 0;
		if (n > cap)
			n = cap;
		if (n > RW_FAST_DATA)
			return 0;
		rec = NULL;
		do {
			RW_EXIT_CLASS(8)
			RW_EXIT_CLASS(32)
			RW_EXIT_CLASS(RW_FAST_DATA)
		} while (0);
		if (!rec)
			goto drop;
		rec_header(rec, evt, 2, RW_X_FIXED + n, tid);
		REC_ST(u16, rec, 28, 8);
		REC_ST(u16, rec, 30, n);
		REC_ST(u64, rec, 32, ret);
	}
	bpf_ringbuf_submit(rec, flags);
	rec_count(cnt, 1);
	return 1;
drop:
	rec_count(cnt, 0);
	return 1;
}

/* Helper calls are most of the per-event cost, so the dispatcher makes as
 * few as it can: the registers are read with plain loads through
 * bpf_task_pt_regs (on x86-64 the raw_syscalls pt_regs argument is the
 * current task's task_pt_regs) instead of being copied with
 * bpf_probe_read_kernel, and pid and tgid come from the task with plain
 * loads too. An enter event of an ignored process or unwanted type costs
 * one helper call, an exit event two. read/write/pread/pwrite, the most
 * frequent calls, are written straight into the ring (rw_fast). */
static __always_inline int dispatch(struct bpf_raw_tracepoint_args *ctx, int enter)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regsp = NULL;
	struct scratch *s;
	u64 nr, pid_tgid;
	u32 evt, ppm_sc = 0, tgid = task->tgid;

	if (tgid_ignored(tgid))
		return 0;
	if (enter) {
		nr = ctx->args[1];
	} else {
		regsp = (struct pt_regs *)bpf_task_pt_regs(task);
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
		regsp = (struct pt_regs *)bpf_task_pt_regs(task);
	if (is_rw(evt) && rw_fast(regsp, evt, enter, (u32)task->pid, enter ? 0 : (s64)ctx->args[1]))
		return 0;
	s = get_scratch();
	if (!s)
		return 0;
	pid_tgid = (u64)tgid << 32 | (u32)task->pid;
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
	if (tgid_ignored(bpf_get_current_pid_tgid() >> 32) ||
	    (!type_wanted(293) && !type_wanted(331)))
		return 0;
	return on_exec((struct linux_binprm *)ctx->args[2]);
}
