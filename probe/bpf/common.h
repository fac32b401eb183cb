/* Shared definitions of the gosysdig probe: maps, settings, the per-CPU
 * scratch event and the helpers that append scap parameters to it.
 *
 * Every event is built in a per-CPU scratch buffer with the exact layout of
 * a sysdig capture's EV_V2 block body:
 *
 *   u16 cpu | u64 ts | u64 tid | u32 len | u16 type | u32 nparams |
 *   u16 len[nparams] | values...
 *
 * and then copied into the ring buffer with bpf_ringbuf_output, so the Go
 * side hands the record to the decoder (or to a capture writer) unchanged.
 * Building in scratch instead of reserving in the ring lets the size be
 * known only at the end (strings, buffers) without wasting ring space.
 * read/write/pread/pwrite, the bulk of most workloads, are the exception:
 * their layout is fixed, and the dispatcher builds them on the stack and
 * sends an enter and its exit as one record (held_enter in probe.c). */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Offsets in the scratch buffer. The record (u16 cpu + event) starts at
 * OFF_REC so that the header's u64 fields are 8-byte aligned: clang turns
 * stores it cannot prove aligned into byte-by-byte stores. */
#define OFF_REC 6
#define OFF_CPU 6
#define OFF_TS 8
#define OFF_TID 16
#define OFF_LEN 24
#define OFF_TYPE 28
#define OFF_NPARAMS 30
#define OFF_LENS 34 /* OFF_REC + 2 (cpu) + 26 (scap v2 header) */

/* An event never exceeds EV_MAX bytes. Write offsets are masked with
 * EV_MAX-1 and each single write is at most EV_MAX bytes, so the buffer is
 * 2*EV_MAX and the verifier can prove every access in bounds. */
#define EV_MAX (1 << 15)
#define EV_MASK (EV_MAX - 1)
#define MAX_PARAMS 23 /* execve exit: 0.29.3's 20 and the capability sets */

/* Caps that keep the largest event (execve exit) well under EV_MAX. */
#define MAX_PATH 4096
#define MAX_ARGS 4096
#define MAX_ENV 4096
#define MAX_CGROUPS 2048
#define MAX_SNAPLEN 16384

#define SC_MAX 512
#define EV_MAX_ID 512 /* room above 0.29.3's PPM_EVENT_MAX (336) */

struct sc_info {
	u16 enter;
	u16 exit;
	u16 ppm_sc;
};

struct ev_info {
	u8 nparams;
	u8 sizes[MAX_PARAMS];
};

#include "tables.h"

/* Settings, rewritten by the Go loader before load (cilium/ebpf
 * Variables): they are constants for the verifier, so disabled features
 * cost nothing at run time. */
volatile const u32 ignore_tgid = 0;      /* gosysdig itself; 0 = none */
volatile const u32 snaplen = 80;         /* I/O data bytes kept (sysdig -s) */
volatile const u64 clock_offset_ns = 0;  /* wall clock - CLOCK_MONOTONIC */

/* The per-CPU scratch event. ARRAY indexed by CPU, not PERCPU_ARRAY: a
 * per-CPU value is limited to 32 KiB. max_entries is set from Go to the
 * number of possible CPUs. Sharing it per CPU relies on the programs of
 * one CPU not interleaving (tail calls continue the same event), as the
 * sysdig eBPF probe's per-CPU state does. */
struct scratch {
	u64 args[6];  /* syscall arguments from pt_regs */
	s64 ret;      /* return value (exit events) */
	u32 nr;       /* syscall number */
	u32 pos;      /* next value offset in buf */
	u16 evt;      /* event type being built */
	u16 cur;      /* index of the next parameter */
	u16 nparams;
	u8 enter;     /* 1 on sys_enter, 0 on sys_exit */
	u8 pad;
	u8 buf[2 * EV_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct scratch);
} scratch_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20); /* overridden by Options.RingBytes */
} events SEC(".maps");

/* Failed ring reservations (slot 0) and submitted events (slot 1), per CPU
 * so the hot path never contends on a shared counter. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, u32);
	__type(value, u64);
} counters SEC(".maps");
#define CNT_DROPS 0
#define CNT_EVENTS 1

/* Event types the consumer wants (1) or not (0), indexed by 0.29.3 event
 * id, filled from Go. Types the user's filter cannot match are never
 * built nor sent. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, EV_MAX_ID);
	__type(key, u32);
	__type(value, u8);
} event_mask SEC(".maps");

/* Processes whose events are not sent: descendants of ignore_tgid, added
 * on fork, removed on exit of the group leader. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, u32);
	__type(value, u8);
} excluded SEC(".maps");

/* Masks x in a way the compiler cannot drop or hoist: clang otherwise
 * reasons from its own knowledge of the range and removes masks the
 * verifier needs to bound a variable offset. */
#define BOUND(x, mask) asm volatile("%0 &= " #mask : "+r"(x))

static __always_inline struct scratch *get_scratch(void)
{
	u32 cpu = bpf_get_smp_processor_id();
	return bpf_map_lookup_elem(&scratch_map, &cpu);
}

/* Entries in `excluded`. The hash lookup is skipped while it is 0, the
 * common case, since it runs on every syscall. */
u32 excluded_count = 0;

static __always_inline int tgid_ignored(u32 tgid)
{
	if (tgid == ignore_tgid && ignore_tgid != 0)
		return 1;
	if (!excluded_count)
		return 0;
	return bpf_map_lookup_elem(&excluded, &tgid) != NULL;
}

static __always_inline int type_wanted(u32 evt)
{
	u8 *on = bpf_map_lookup_elem(&event_mask, &evt);
	return on && *on;
}

/* Writes the header fields known at start and reserves the lengths array.
 * pid_tgid (tgid << 32 | tid) comes from the caller, which has read it
 * already: helper calls are the main per-event cost. */
static __always_inline void ev_begin_tid(struct scratch *s, u32 evt, u64 pid_tgid)
{
	u16 nparams;

	evt &= EV_MAX_ID - 1;
	nparams = ev_table[evt].nparams & 31;
	s->evt = evt;
	s->nparams = nparams;
	s->cur = 0;
	s->pos = OFF_LENS + 2 * nparams;
	*(u16 *)&s->buf[OFF_CPU] = bpf_get_smp_processor_id();
	*(u64 *)&s->buf[OFF_TS] = bpf_ktime_get_ns() + clock_offset_ns;
	*(u64 *)&s->buf[OFF_TID] = (u32)pid_tgid;
	*(u16 *)&s->buf[OFF_TYPE] = evt;
	*(u32 *)&s->buf[OFF_NPARAMS] = nparams;
}

static __always_inline void ev_begin(struct scratch *s, u32 evt)
{
	ev_begin_tid(s, evt, bpf_get_current_pid_tgid());
}

/* Records the length of the parameter just written and moves on. */
static __always_inline void ev_param_done(struct scratch *s, u32 len)
{
	u64 i = s->cur;
	BOUND(i, 31);
	*(u16 *)&s->buf[OFF_LENS + 2 * i] = len;
	s->cur = i + 1;
	s->pos += len;
}

static __always_inline void push_u8(struct scratch *s, u8 v)
{
	s->buf[s->pos & EV_MASK] = v;
	ev_param_done(s, 1);
}

static __always_inline void push_u16(struct scratch *s, u16 v)
{
	*(u16 *)&s->buf[s->pos & EV_MASK] = v;
	ev_param_done(s, 2);
}

static __always_inline void push_u32(struct scratch *s, u32 v)
{
	*(u32 *)&s->buf[s->pos & EV_MASK] = v;
	ev_param_done(s, 4);
}

static __always_inline void push_u64(struct scratch *s, u64 v)
{
	*(u64 *)&s->buf[s->pos & EV_MASK] = v;
	ev_param_done(s, 8);
}

/* An fd or pid passed as a C int: sign-extend the low 32 bits of the
 * register (the upper half is not defined by the ABI). */
static __always_inline void push_s32_as_s64(struct scratch *s, u64 v)
{
	push_u64(s, (s64)(s32)v);
}

static __always_inline void push_empty(struct scratch *s)
{
	ev_param_done(s, 0);
}

/* Zero-filled parameter of a fixed size (used by the fallback filler). */
static __always_inline void push_zero(struct scratch *s, u32 size)
{
	u32 off = s->pos & EV_MASK;
	*(u64 *)&s->buf[off] = 0;
	*(u64 *)&s->buf[(off + 8) & (2 * EV_MAX - 1)] = 0;
	ev_param_done(s, size > 16 ? 16 : size); /* fixed wire sizes are <= 16 */
}

/* PT_CHARBUF/PT_FSPATH from user memory, NUL included in the length. A NULL
 * pointer is stored as "(NULL)" like the sysdig driver; an unreadable one
 * as an empty string. */
static __always_inline void push_user_str(struct scratch *s, u64 ptr, u32 max)
{
	u32 off = s->pos & EV_MASK;
	long n;

	if (!ptr) {
		__builtin_memcpy(&s->buf[off], "(NULL)", 7);
		ev_param_done(s, 7);
		return;
	}
	n = bpf_probe_read_user_str(&s->buf[off], max & (EV_MAX - 1), (void *)ptr);
	if (n <= 0) {
		s->buf[off] = 0;
		n = 1;
	}
	ev_param_done(s, n);
}

/* A NUL-terminated kernel string (comm, names from kernel structures). */
static __always_inline void push_kernel_str(struct scratch *s, const void *ptr, u32 max)
{
	u32 off = s->pos & EV_MASK;
	long n = bpf_probe_read_kernel_str(&s->buf[off], max & (EV_MAX - 1), ptr);
	if (n <= 0) {
		s->buf[off] = 0;
		n = 1;
	}
	ev_param_done(s, n);
}

/* PT_BYTEBUF from user memory: len bytes, clamped to max; unreadable
 * memory gives an empty buffer. */
static __always_inline void push_user_bytes(struct scratch *s, u64 ptr, u64 len, u32 max)
{
	u32 off = s->pos & EV_MASK;

	if ((s64)len <= 0 || !ptr) {
		push_empty(s);
		return;
	}
	if (len > max)
		len = max;
	len &= EV_MAX - 1;
	if (bpf_probe_read_user(&s->buf[off], len, (void *)ptr) < 0) {
		push_empty(s);
		return;
	}
	ev_param_done(s, len);
}

/* I/O data buffer of read/write-like calls: at most snaplen bytes. */
static __always_inline void push_data(struct scratch *s, u64 ptr, s64 len)
{
	u32 cap = snaplen;
	if (cap > MAX_SNAPLEN)
		cap = MAX_SNAPLEN;
	push_user_bytes(s, ptr, len, cap);
}

/* Fills any parameter not written yet with zeroes of its wire size (or an
 * empty value for variable-size types), so an event always has the shape
 * the 0.29.3 table gives its type. */
static __always_inline void ev_fill_rest(struct scratch *s)
{
	u64 evt = s->evt;
	u32 cur = s->cur, n = s->nparams;
	const struct ev_info *info;

	if (cur >= n)
		return; /* the common case: the filler wrote every parameter */
	BOUND(evt, 511); /* EV_MAX_ID - 1 */
	info = &ev_table[evt];
	/* Constant indexes: the verifier sees every access in bounds. */
	for (int i = 0; i < MAX_PARAMS; i++) {
		if (i >= n)
			break;
		if (i < cur)
			continue;
		push_zero(s, info->sizes[i]);
	}
}

/* reader_state[0] is 1 while the reader sleeps in epoll_wait (Go writes it
 * through a memory mapping of the map): only then is a wakeup worth its
 * cost (an irq_work, i.e. a self-IPI, which in a VM is an exit to the
 * hypervisor). A busy reader that has fallen behind gains nothing from
 * being woken. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, u32);
	__type(value, u32);
} reader_state SEC(".maps");

static __always_inline int reader_waiting(void)
{
	u32 zero = 0;
	u32 *w = bpf_map_lookup_elem(&reader_state, &zero);
	return w && *w;
}

/* Submit flags: a wakeup only when the reader sleeps and the ring is half
 * full (it polls with a short deadline otherwise, and per-event wakeups
 * cost 4x more than the probe itself). The fill level costs two helper
 * calls: it is checked about every 32nd record of a CPU (cnt: its sent
 * events, which grow by 1 or 2 per record). */
static __always_inline u64 ring_wake_flags(u64 *cnt)
{
	if (cnt && (*cnt & 62) == 0 && reader_waiting() &&
	    bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) > bpf_ringbuf_query(&events, BPF_RB_RING_SIZE) / 2)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

/* Completes the header and copies the event into the ring buffer. */
static __always_inline int ev_submit(struct scratch *s)
{
	u32 key = CNT_EVENTS;
	u64 *cnt = bpf_map_lookup_elem(&counters, &key);
	u32 size;

	ev_fill_rest(s);
	size = s->pos - OFF_REC;
	if (size > EV_MAX)
		size = EV_MAX;
	*(u32 *)&s->buf[OFF_LEN] = size - 2;

	if (bpf_ringbuf_output(&events, &s->buf[OFF_REC], size & (EV_MAX * 2 - 1), ring_wake_flags(cnt)) < 0) {
		key = CNT_DROPS;
		cnt = bpf_map_lookup_elem(&counters, &key);
	}
	if (cnt)
		*cnt += 1;
	return 0;
}

/* Tail-call programs share the raw tracepoint context type of their caller. */
#define FILLER(name) \
	SEC("raw_tracepoint") int fill_##name(struct bpf_raw_tracepoint_args *ctx)

#define SCRATCH_OR_RETURN(s)               \
	struct scratch *s = get_scratch(); \
	if (!s)                            \
		return 0
