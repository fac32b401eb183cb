/* Memory, wait, IPC and other fillers with scalar parameters. */
#pragma once

#include "common.h"
#include "flags.h"
#include "task.h"

/* Linux POLL* -> PPM_POLL* */
static __always_inline u16 poll_events_to_scap(u16 e)
{
	u16 res = 0;
	if (e & 0x001) res |= 1;    /* POLLIN */
	if (e & 0x002) res |= 2;    /* POLLPRI */
	if (e & 0x004) res |= 4;    /* POLLOUT */
	if (e & 0x2000) res |= 8;   /* POLLRDHUP */
	if (e & 0x008) res |= 16;   /* POLLERR */
	if (e & 0x010) res |= 32;   /* POLLHUP */
	if (e & 0x020) res |= 64;   /* POLLNVAL */
	if (e & 0x040) res |= 128;  /* POLLRDNORM */
	if (e & 0x080) res |= 256;  /* POLLRDBAND */
	if (e & 0x100) res |= 512;  /* POLLWRNORM */
	if (e & 0x200) res |= 1024; /* POLLWRBAND */
	return res;
}

/* PT_FDLIST: u16 count, then (i64 fd, i16 flags) per entry; requested
 * events on enter, returned events on exit. At most MAX_POLL entries. */
#define MAX_POLL 16
static __always_inline void push_fdlist(struct scratch *s, u64 ufds, u64 nfds, int exit)
{
	u32 off = s->pos;
	u16 n = 0;

	for (int i = 0; i < MAX_POLL; i++) {
		struct pollfd p;
		u32 o;
		if (i >= nfds)
			break;
		if (bpf_probe_read_user(&p, sizeof(p), (void *)(ufds + i * sizeof(p))) < 0)
			break;
		o = off + 2 + 10 * i;
		*(s64 *)&s->buf[o & EV_MASK] = p.fd;
		*(u16 *)&s->buf[(o + 8) & EV_MASK] = poll_events_to_scap(exit ? p.revents : p.events);
		n++;
	}
	*(u16 *)&s->buf[off & EV_MASK] = n;
	ev_param_done(s, 2 + 10 * n);
}

/* IPC_* and semctl commands -> PPM_* (semctl_commands table) */
static __always_inline u16 semctl_cmd_to_scap(u64 cmd)
{
	switch (cmd & 0xff) { /* IPC_64 (0x100) is a version flag */
	case 0: return 4;     /* IPC_RMID */
	case 1: return 2;     /* IPC_SET */
	case 2: return 1;     /* IPC_STAT */
	case 3: return 8;     /* IPC_INFO */
	case 11: return 256;  /* GETPID */
	case 12: return 512;  /* GETVAL */
	case 13: return 64;   /* GETALL */
	case 14: return 128;  /* GETNCNT */
	case 15: return 1024; /* GETZCNT */
	case 16: return 4096; /* SETVAL */
	case 17: return 2048; /* SETALL */
	case 18: return 32;   /* SEM_STAT */
	case 19: return 16;   /* SEM_INFO */
	default: return 0;
	}
}

FILLER(misc)
{
	SCRATCH_OR_RETURN(s);
	u64 *a = s->args;
	s64 ret = s->ret;

	switch (s->evt) {
	case 160: /* mmap E: addr, length, prot, flags, fd, offset */
		push_u64(s, a[0]);
		push_u64(s, a[1]);
		push_u32(s, prot_flags_to_scap(a[2]));
		push_u32(s, mmap_flags_to_scap(a[3]));
		push_s32_as_s64(s, a[4]);
		push_u64(s, a[5]);
		break;
	case 161: case 165: case 159: /* mmap/munmap/brk X: res, vm_size, vm_rss, vm_swap */
		push_u64(s, ret);
		push_vm(s, cur_task());
		break;
	case 164: /* munmap E: addr, length */
		push_u64(s, a[0]);
		push_u64(s, a[1]);
		break;
	case 158: /* brk E: addr */
		push_u64(s, a[0]);
		break;
	case 328: /* mprotect E: addr, length, prot */
		push_u64(s, a[0]);
		push_u64(s, a[1]);
		push_u32(s, prot_flags_to_scap(a[2]));
		break;
	case 296: /* bpf E: cmd */
		push_u64(s, a[0]);
		break;
	case 297: /* bpf X: res_or_fd, PT_DYN: 0 = fd (map/prog created), 1 = errno */
	{
		u32 off = s->pos;
		s->buf[off & EV_MASK] = (ret >= 0 && (a[0] == 0 || a[0] == 5)) ? 0 : 1;
		*(s64 *)&s->buf[(off + 1) & EV_MASK] = ret;
		ev_param_done(s, 9);
		break;
	}
	case 298: /* seccomp E: op */
		push_u64(s, a[0]);
		break;
	case 134: /* nanosleep E: interval (ns) */
	{
		struct { s64 sec, nsec; } ts = {};
		bpf_probe_read_user(&ts, sizeof(ts), (void *)a[0]);
		push_u64(s, ts.sec * 1000000000ULL + ts.nsec);
		break;
	}
	case 64: /* futex E: addr, op, val (PPM op numbering equals Linux's) */
		push_u64(s, a[0]);
		push_u16(s, a[1]);
		push_u64(s, a[2]);
		break;
	case 62: /* eventfd E: initval, flags */
		push_u64(s, a[0]);
		push_u32(s, s->nr == 290 ? a[1] : 0);
		break;
	case 126: /* signalfd E: fd, mask, flags */
	{
		u32 mask = 0;
		bpf_probe_read_user(&mask, 4, (void *)a[1]);
		push_s32_as_s64(s, a[0]);
		push_u32(s, mask);
		push_u8(s, s->nr == 289 ? a[3] : 0);
		break;
	}
	case 136: /* timerfd_create E: clockid, flags */
		push_u8(s, a[0]);
		push_u8(s, a[1]);
		break;
	case 138: /* inotify_init E: flags */
		push_u8(s, s->nr == 294 ? a[0] : 0);
		break;
	case 78: /* epoll_wait E: maxevents */
		push_u64(s, (s64)(s32)a[2]);
		break;
	case 80: /* poll E: fds, timeout */
		push_fdlist(s, a[0], a[1], 0);
		push_u64(s, (s64)(s32)a[2]);
		break;
	case 81: case 255: /* poll/ppoll X: res, fds */
		push_u64(s, ret);
		push_fdlist(s, a[0], a[1], 1);
		break;
	case 254: /* ppoll E: fds, timeout, sigmask */
	{
		struct { s64 sec, nsec; } ts = {};
		u32 mask = 0;
		u64 t = (u64)-1;
		if (a[2] && bpf_probe_read_user(&ts, sizeof(ts), (void *)a[2]) == 0)
			t = ts.sec * 1000000000ULL + ts.nsec;
		if (a[3])
			bpf_probe_read_user(&mask, 4, (void *)a[3]);
		push_fdlist(s, a[0], a[1], 0);
		push_u64(s, t);
		push_u32(s, mask);
		break;
	}
	case 262: /* semget E: key, nsems, semflg */
	{
		u32 f = 0;
		if (a[2] & 01000) f |= 8192;  /* IPC_CREAT */
		if (a[2] & 02000) f |= 16384; /* IPC_EXCL */
		push_u32(s, a[0]);
		push_u32(s, a[1]);
		push_u32(s, f);
		break;
	}
	case 250: /* semop E: semid */
		push_u32(s, a[0]);
		break;
	case 251: /* semop X: res, nsops, then num/op/flg of the first two ops */
	{
		struct { u16 num; s16 op; s16 flg; } ops[2] = {};
		u64 nsops = a[2];
		if (ret == 0 && nsops > 0)
			bpf_probe_read_user(ops, nsops > 1 ? sizeof(ops) : sizeof(ops[0]), (void *)a[1]);
		push_u64(s, ret);
		push_u32(s, nsops);
		for (int i = 0; i < 2; i++) {
			push_u16(s, ops[i].num);
			push_u16(s, ops[i].op);
			push_u16(s, ((ops[i].flg & 04000) ? 1 : 0) | ((ops[i].flg & 0x1000) ? 2 : 0));
		}
		break;
	}
	case 252: /* semctl E: semid, semnum, cmd, val */
		push_u32(s, a[0]);
		push_u32(s, a[1]);
		push_u16(s, semctl_cmd_to_scap(a[2]));
		push_u32(s, (a[2] & 0xff) == 16 /* SETVAL */ ? a[3] : 0);
		break;
	}
	return ev_submit(s);
}
