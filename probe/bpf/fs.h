/* File-system fillers. Each filler is a tail-call program serving several
 * event ids (it switches on s->evt), which keeps the program count low
 * while every case stays a short straight line for the verifier.
 *
 * Arguments come from the scratch (copied from pt_regs by the dispatcher).
 * Exit events read them too: on x86-64 pt_regs still holds the arguments
 * at sys_exit, which is what the sysdig eBPF probe relies on as well.
 * Parameter order and types follow the 0.29.3 columns of scap-events.tsv. */
#pragma once

#include "common.h"
#include "flags.h"
#include "task.h"

/* open, creat, openat, openat2: enter and exit. */
FILLER(open)
{
	SCRATCH_OR_RETURN(s);
	u64 *a = s->args;
	s64 ret = s->ret;
	u64 flags, mode, resolve = 0;

	switch (s->evt) {
	case 2: /* open E: name, flags, mode */
		push_user_str(s, a[0], MAX_PATH);
		push_u32(s, open_flags_to_scap(a[1]));
		push_u32(s, open_mode_to_scap(a[1], a[2]));
		break;
	case 3: /* open X: fd, name, flags, mode, dev */
		push_u64(s, ret);
		push_user_str(s, a[0], MAX_PATH);
		push_u32(s, open_flags_to_scap(a[1]));
		push_u32(s, open_mode_to_scap(a[1], a[2]));
		push_u32(s, ret >= 0 ? file_dev(fd_file(ret)) : 0);
		break;
	case 58: /* creat E: name, mode */
		push_user_str(s, a[0], MAX_PATH);
		push_u32(s, open_mode_to_scap(L_O_CREAT, a[1]));
		break;
	case 59: /* creat X: fd, name, mode, dev */
		push_u64(s, ret);
		push_user_str(s, a[0], MAX_PATH);
		push_u32(s, open_mode_to_scap(L_O_CREAT, a[1]));
		push_u32(s, ret >= 0 ? file_dev(fd_file(ret)) : 0);
		break;
	case 306: /* openat E: dirfd, name, flags, mode */
		push_s32_as_s64(s, a[0]);
		push_user_str(s, a[1], MAX_PATH);
		push_u32(s, open_flags_to_scap(a[2]));
		push_u32(s, open_mode_to_scap(a[2], a[3]));
		break;
	case 307: /* openat X: fd, dirfd, name, flags, mode, dev */
		push_u64(s, ret);
		push_s32_as_s64(s, a[0]);
		push_user_str(s, a[1], MAX_PATH);
		push_u32(s, open_flags_to_scap(a[2]));
		push_u32(s, open_mode_to_scap(a[2], a[3]));
		push_u32(s, ret >= 0 ? file_dev(fd_file(ret)) : 0);
		break;
	case 326: /* openat2 E: dirfd, name, flags, mode, resolve */
	case 327: /* openat2 X: fd, dirfd, name, flags, mode, resolve */
	{
		struct open_how how = {};
		bpf_probe_read_user(&how, sizeof(how), (void *)a[2]);
		flags = how.flags;
		mode = how.mode;
		resolve = how.resolve;
		if (s->evt == 327)
			push_u64(s, ret);
		push_s32_as_s64(s, a[0]);
		push_user_str(s, a[1], MAX_PATH);
		push_u32(s, open_flags_to_scap(flags));
		push_u32(s, open_mode_to_scap(flags, mode));
		push_u32(s, openat2_resolve_to_scap(resolve));
		break;
	}
	}
	return ev_submit(s);
}

/* read, write, pread, pwrite: enter fd,size[,pos]; exit res,data. The
 * most frequent system calls: the dispatcher builds them itself (no tail
 * call, see probe.c). */
static __always_inline int is_rw(u32 evt)
{
	return (evt >= 6 && evt <= 9) || (evt >= 112 && evt <= 115);
}

static __always_inline void fill_rw_params(struct scratch *s, u32 evt, int enter, u64 *a, s64 ret)
{
	if (enter) {
		push_s32_as_s64(s, a[0]);
		push_u32(s, a[2]);
		if (evt == 112 || evt == 114)
			push_u64(s, a[3]);
	} else {
		s64 n = ret;
		/* A failed write still shows what it tried to write (like the
		 * sysdig probe); a failed read shows nothing. */
		if ((evt == 9 || evt == 115) && n <= 0)
			n = a[2];
		push_u64(s, ret);
		push_data(s, a[1], n);
	}
}

/* Copies up to `max` bytes from an iovec array into one BYTEBUF parameter
 * (sysdig gathers readv/writev/sendmsg/recvmsg data the same way). */
#define MAX_IOV 16
static __always_inline void push_iov_data(struct scratch *s, u64 iov_ptr, u64 iovcnt, s64 total)
{
	u32 start = s->pos;
	u32 len = 0;
	u32 cap = snaplen;

	if (cap > MAX_SNAPLEN)
		cap = MAX_SNAPLEN;
	if (total < cap)
		cap = total > 0 ? total : 0;
	for (int i = 0; i < MAX_IOV; i++) {
		struct iovec iov;
		u64 n;
		if (i >= iovcnt || len >= cap)
			break;
		if (bpf_probe_read_user(&iov, sizeof(iov), (void *)(iov_ptr + i * sizeof(iov))) < 0)
			break;
		n = iov.iov_len;
		if (n > cap - len)
			n = cap - len;
		n &= MAX_SNAPLEN * 2 - 1;
		if (n && bpf_probe_read_user(&s->buf[(start + len) & EV_MASK], n, iov.iov_base) < 0)
			break;
		len += n;
	}
	ev_param_done(s, len);
}

static __always_inline u64 iov_total(u64 iov_ptr, u64 iovcnt)
{
	u64 sum = 0;
	for (int i = 0; i < MAX_IOV; i++) {
		struct iovec iov;
		if (i >= iovcnt)
			break;
		if (bpf_probe_read_user(&iov, sizeof(iov), (void *)(iov_ptr + i * sizeof(iov))) < 0)
			break;
		sum += iov.iov_len;
	}
	return sum;
}

/* readv, writev, preadv, pwritev. */
FILLER(rwv)
{
	SCRATCH_OR_RETURN(s);
	u64 *a = s->args;
	s64 ret = s->ret;

	switch (s->evt) {
	case 116: /* readv E: fd */
		push_s32_as_s64(s, a[0]);
		break;
	case 118: /* writev E: fd, size */
		push_s32_as_s64(s, a[0]);
		push_u32(s, iov_total(a[1], a[2]));
		break;
	case 120: /* preadv E: fd, pos */
		push_s32_as_s64(s, a[0]);
		push_u64(s, a[3]);
		break;
	case 122: /* pwritev E: fd, size, pos */
		push_s32_as_s64(s, a[0]);
		push_u32(s, iov_total(a[1], a[2]));
		push_u64(s, a[3]);
		break;
	case 117: /* readv X: res, size, data */
	case 121:
		push_u64(s, ret);
		push_u32(s, iov_total(a[1], a[2]));
		push_iov_data(s, a[1], a[2], ret);
		break;
	case 119: /* writev X: res, data */
	case 123:
		push_u64(s, ret);
		push_iov_data(s, a[1], a[2], ret);
		break;
	}
	return ev_submit(s);
}

/* Calls whose exit carries res plus paths, dirfds and flags, and the
 * enter events of the same family that carry a mode or flags. */
FILLER(path)
{
	SCRATCH_OR_RETURN(s);
	u64 *a = s->args;

	if (!s->enter)
		push_u64(s, s->ret);
	switch (s->evt) {
	case 67: case 69: case 73: case 75: /* stat family X: path */
	case 95:                             /* chdir X: path */
	case 265:                            /* access X: name */
	case 267:                            /* chroot X: path */
	case 277:                            /* mkdir X: path */
	case 279:                            /* rmdir X: path */
	case 301:                            /* unlink X: path */
	case 259:                            /* umount X: name */
		push_user_str(s, a[0], MAX_PATH);
		break;
	case 93: /* getcwd X: path, what the kernel wrote into the buffer */
		if (s->ret > 0)
			push_user_str(s, a[0], MAX_PATH);
		else
			push_empty(s);
		break;
	case 175: /* rename X: oldpath, newpath */
	case 309: /* link X */
	case 179: /* symlink X: target, linkpath */
		push_user_str(s, a[0], MAX_PATH);
		push_user_str(s, a[1], MAX_PATH);
		break;
	case 177: /* renameat X: olddirfd, oldpath, newdirfd, newpath */
	case 319: /* renameat2 X: ... flags */
	case 311: /* linkat X: ... flags */
		push_s32_as_s64(s, a[0]);
		push_user_str(s, a[1], MAX_PATH);
		push_s32_as_s64(s, a[2]);
		push_user_str(s, a[3], MAX_PATH);
		if (s->evt == 319)
			push_u32(s, renameat2_flags_to_scap(a[4]));
		else if (s->evt == 311)
			push_u32(s, linkat_flags_to_scap(a[4]));
		break;
	case 181: /* symlinkat X: target, linkdirfd, linkpath */
		push_user_str(s, a[0], MAX_PATH);
		push_s32_as_s64(s, a[1]);
		push_user_str(s, a[2], MAX_PATH);
		break;
	case 303: /* unlinkat X: dirfd, name, flags */
		push_s32_as_s64(s, a[0]);
		push_user_str(s, a[1], MAX_PATH);
		push_u32(s, unlinkat_flags_to_scap(a[2]));
		break;
	case 305: /* mkdirat X: dirfd, path, mode */
		push_s32_as_s64(s, a[0]);
		push_user_str(s, a[1], MAX_PATH);
		push_u32(s, a[2]);
		break;
	case 313: /* fchmodat X: dirfd, filename, mode */
		push_s32_as_s64(s, a[0]);
		push_user_str(s, a[1], MAX_PATH);
		push_u32(s, chmod_mode_to_scap(a[2]));
		break;
	case 315: /* chmod X: filename, mode */
		push_user_str(s, a[0], MAX_PATH);
		push_u32(s, chmod_mode_to_scap(a[1]));
		break;
	case 317: /* fchmod X: fd, mode */
		push_s32_as_s64(s, a[0]);
		push_u32(s, chmod_mode_to_scap(a[1]));
		break;
	case 257: /* mount X: dev, dir, type */
		push_user_str(s, a[0], MAX_PATH);
		push_user_str(s, a[1], MAX_PATH);
		push_user_str(s, a[2], 256);
		break;
	case 256: /* mount E: flags */
		push_u32(s, mount_flags_to_scap(a[3]));
		break;
	case 258: /* umount E: flags */
		push_u32(s, umount_flags_to_scap(a[1]));
		break;
	case 264: /* access E: mode */
		push_u32(s, access_flags_to_scap(a[1]));
		break;
	case 276: /* mkdir E: mode */
		push_u32(s, a[1]);
		break;
	}
	return ev_submit(s);
}

/* Enter events that carry an fd and a few scalars, and exits with extra
 * values beyond res. */
FILLER(fd)
{
	SCRATCH_OR_RETURN(s);
	u64 *a = s->args;
	s64 ret = s->ret;

	switch (s->evt) {
	case 4: case 70: case 96: case 124: /* close, fstat, fchdir, dup E: fd */
	case 236: case 238:                 /* getdents(64) E: fd */
	case 20: case 52:                   /* bind, recvmsg E: fd */
		push_s32_as_s64(s, a[0]);
		break;
	case 150: /* fcntl E: fd, cmd */
		push_s32_as_s64(s, a[0]);
		push_u8(s, fcntl_cmd_to_scap(a[1]));
		break;
	case 86: /* lseek E: fd, offset, whence */
		push_s32_as_s64(s, a[0]);
		push_u64(s, a[1]);
		push_u8(s, a[2]);
		break;
	case 242: /* flock E: fd, operation */
		push_s32_as_s64(s, a[0]);
		push_u32(s, flock_flags_to_scap(a[1]));
		break;
	case 170: /* ioctl E: fd, request, argument */
		push_s32_as_s64(s, a[0]);
		push_u64(s, a[1]);
		push_u64(s, a[2]);
		break;
	case 166: /* splice E: fd_in, fd_out, size, flags */
		push_s32_as_s64(s, a[0]);
		push_s32_as_s64(s, a[2]);
		push_u64(s, a[4]);
		push_u32(s, a[5] & 0xf);
		break;
	case 188: /* sendfile E: out_fd, in_fd, offset, size */
	{
		u64 off = 0;
		if (a[2])
			bpf_probe_read_user(&off, sizeof(off), (void *)a[2]);
		push_s32_as_s64(s, a[0]);
		push_s32_as_s64(s, a[1]);
		push_u64(s, off);
		push_u64(s, a[3]);
		break;
	}
	case 189: /* sendfile X: res, offset */
	{
		u64 off = 0;
		if (a[2])
			bpf_probe_read_user(&off, sizeof(off), (void *)a[2]);
		push_u64(s, ret);
		push_u64(s, off);
		break;
	}
	case 332: /* copy_file_range E: fdin, offin, len */
	{
		u64 off = 0;
		if (a[1])
			bpf_probe_read_user(&off, sizeof(off), (void *)a[1]);
		push_s32_as_s64(s, a[0]);
		push_u64(s, off);
		push_u64(s, a[4]);
		break;
	}
	case 333: /* copy_file_range X: res, fdout, offout */
	{
		u64 off = 0;
		if (a[3])
			bpf_probe_read_user(&off, sizeof(off), (void *)a[3]);
		push_u64(s, ret);
		push_s32_as_s64(s, a[2]);
		push_u64(s, off);
		break;
	}
	case 61: /* pipe X: res, fd1, fd2, ino */
	{
		s32 fds[2] = {-1, -1};
		bpf_probe_read_user(fds, sizeof(fds), (void *)a[0]);
		push_u64(s, ret);
		push_u64(s, (s64)fds[0]);
		push_u64(s, (s64)fds[1]);
		push_u64(s, ret >= 0 ? file_ino(fd_file(fds[0])) : 0);
		break;
	}
	case 321: /* userfaultfd X: res, flags */
		push_u64(s, ret);
		push_u32(s, open_flags_to_scap(a[0]));
		break;
	}
	return ev_submit(s);
}
