/* Linux -> PPM (sysdig) flag conversions. vmlinux.h has no #defines, so the
 * x86-64 Linux values are spelled here. The PPM numbering is the one of
 * scap-flags.tsv (sysdig 0.29.3); the conversions follow the 0.29.3
 * driver's ppm_flag_helpers.h, including its quirks (see open flags). */
#pragma once

/* fcntl.h (x86-64, octal like the kernel headers) */
#define L_O_ACCMODE 03
#define L_O_WRONLY 01
#define L_O_RDWR 02
#define L_O_CREAT 0100
#define L_O_EXCL 0200
#define L_O_TRUNC 01000
#define L_O_APPEND 02000
#define L_O_NONBLOCK 04000
#define L_O_DSYNC 010000
#define L_O_DIRECT 040000
#define L_O_LARGEFILE 0100000
#define L_O_DIRECTORY 0200000
#define L_O_CLOEXEC 02000000
#define L_O_SYNC 04010000     /* __O_SYNC | O_DSYNC */
#define L_O_TMPFILE 020200000 /* __O_TMPFILE | O_DIRECTORY */

/* The 0.29.3 driver tests O_SYNC and O_TMPFILE with `flags & MASK`, so
 * O_DSYNC alone also reports O_SYNC and O_DIRECTORY also reports O_TMPFILE.
 * Kept on purpose: sysdig 0.29.3 prints exactly that. */
static __always_inline u32 open_flags_to_scap(u64 flags)
{
	u32 res;

	switch (flags & L_O_ACCMODE) {
	case L_O_WRONLY:
		res = 2;
		break;
	case L_O_RDWR:
		res = 3;
		break;
	default:
		res = 1;
	}
	if (flags & L_O_CREAT)
		res |= 4;
	if (flags & L_O_TMPFILE)
		res |= 8192;
	if (flags & L_O_APPEND)
		res |= 8;
	if (flags & L_O_DSYNC)
		res |= 16;
	if (flags & L_O_EXCL)
		res |= 32;
	if (flags & L_O_NONBLOCK)
		res |= 64;
	if (flags & L_O_SYNC)
		res |= 128;
	if (flags & L_O_TRUNC)
		res |= 256;
	if (flags & L_O_DIRECT)
		res |= 512;
	if (flags & L_O_DIRECTORY)
		res |= 1024;
	if (flags & L_O_LARGEFILE)
		res |= 2048;
	if (flags & L_O_CLOEXEC)
		res |= 4096;
	return res;
}

/* Mode is only meaningful (and only reported) with O_CREAT/O_TMPFILE. The
 * PPM_S_* bits have the Linux values, so the conversion is a mask. */
static __always_inline u32 open_mode_to_scap(u64 flags, u64 mode)
{
	if (!(flags & (L_O_CREAT | L_O_TMPFILE)))
		return 0;
	return mode & 07777;
}

static __always_inline u32 chmod_mode_to_scap(u64 mode)
{
	return mode & 07777;
}

/* RESOLVE_* (linux/openat2.h) -> PPM_RESOLVE_* */
static __always_inline u32 openat2_resolve_to_scap(u64 r)
{
	u32 res = 0;
	if (r & 0x08) /* RESOLVE_BENEATH */
		res |= 1;
	if (r & 0x10) /* RESOLVE_IN_ROOT */
		res |= 2;
	if (r & 0x02) /* RESOLVE_NO_MAGICLINKS */
		res |= 4;
	if (r & 0x04) /* RESOLVE_NO_SYMLINKS */
		res |= 8;
	if (r & 0x01) /* RESOLVE_NO_XDEV */
		res |= 16;
	if (r & 0x20) /* RESOLVE_CACHED */
		res |= 32;
	return res;
}

/* CLONE_* (linux/sched.h) -> PPM_CL_* */
static __always_inline u32 clone_flags_to_scap(u64 f)
{
	u32 res = 0;
	if (f & 0x00000400) res |= 1;          /* CLONE_FILES */
	if (f & 0x00000200) res |= 2;          /* CLONE_FS */
	if (f & 0x80000000) res |= 4;          /* CLONE_IO */
	if (f & 0x08000000) res |= 8;          /* CLONE_NEWIPC */
	if (f & 0x40000000) res |= 16;         /* CLONE_NEWNET */
	if (f & 0x00020000) res |= 32;         /* CLONE_NEWNS */
	if (f & 0x20000000) res |= 64;         /* CLONE_NEWPID */
	if (f & 0x04000000) res |= 128;        /* CLONE_NEWUTS */
	if (f & 0x00100000) res |= 512;        /* CLONE_PARENT_SETTID */
	if (f & 0x00008000) res |= 256;        /* CLONE_PARENT */
	if (f & 0x00002000) res |= 1024;       /* CLONE_PTRACE */
	if (f & 0x00000800) res |= 2048;       /* CLONE_SIGHAND */
	if (f & 0x00040000) res |= 4096;       /* CLONE_SYSVSEM */
	if (f & 0x00010000) res |= 8192;       /* CLONE_THREAD */
	if (f & 0x00800000) res |= 16384;      /* CLONE_UNTRACED */
	if (f & 0x00000100) res |= 32768;      /* CLONE_VM */
	if (f & 0x10000000) res |= 1048576;    /* CLONE_NEWUSER */
	if (f & 0x00200000) res |= 8388608;    /* CLONE_CHILD_CLEARTID */
	if (f & 0x01000000) res |= 16777216;   /* CLONE_CHILD_SETTID */
	if (f & 0x00080000) res |= 33554432;   /* CLONE_SETTLS */
	if (f & 0x00004000) res |= 134217728;  /* CLONE_VFORK */
	if (f & 0x02000000) res |= 268435456;  /* CLONE_NEWCGROUP */
	return res;
}

/* AF_* -> PPM_AF_*: the PPM numbering equals Linux's for every family
 * 0.29.3 knows (AF_UNIX 1, AF_INET 2, AF_INET6 10, AF_NETLINK 16,
 * AF_PACKET 17, ...), and unknown ones map to AF_UNSPEC like the driver. */
static __always_inline u8 socket_family_to_scap(u64 family)
{
	if (family <= 39 && family != 27 && family != 28)
		return family;
	return 0;
}

static __always_inline u32 prot_flags_to_scap(u64 p)
{
	u32 res = 0;
	if (p & 0x1) res |= 1;                 /* PROT_READ */
	if (p & 0x2) res |= 2;                 /* PROT_WRITE */
	if (p & 0x4) res |= 4;                 /* PROT_EXEC */
	if (p & 0x8) res |= 8;                 /* PROT_SEM */
	if (p & 0x01000000) res |= 16;         /* PROT_GROWSDOWN */
	if (p & 0x02000000) res |= 32;         /* PROT_GROWSUP */
	return res;
}

static __always_inline u32 mmap_flags_to_scap(u64 f)
{
	u32 res = 0;
	if (f & 0x01) res |= 1;                /* MAP_SHARED */
	if (f & 0x02) res |= 2;                /* MAP_PRIVATE */
	if (f & 0x10) res |= 4;                /* MAP_FIXED */
	if (f & 0x20) res |= 8;                /* MAP_ANONYMOUS */
	if (f & 0x40) res |= 16;               /* MAP_32BIT */
	if (f & 0x4000) res |= 64;             /* MAP_NORESERVE */
	if (f & 0x8000) res |= 128;            /* MAP_POPULATE */
	if (f & 0x10000) res |= 256;           /* MAP_NONBLOCK */
	if (f & 0x0100) res |= 512;            /* MAP_GROWSDOWN */
	if (f & 0x0800) res |= 1024;           /* MAP_DENYWRITE */
	if (f & 0x1000) res |= 2048;           /* MAP_EXECUTABLE */
	if (f & 0x2000) res |= 16384;          /* MAP_LOCKED */
	/* MAP_FILE is 0 on Linux: the driver's test never matches. */
	return res;
}

static __always_inline u8 fcntl_cmd_to_scap(u64 cmd)
{
	switch (cmd) {
	case 0: return 1;      /* F_DUPFD */
	case 1: return 2;      /* F_GETFD */
	case 2: return 3;      /* F_SETFD */
	case 3: return 4;      /* F_GETFL */
	case 4: return 5;      /* F_SETFL */
	case 5: return 6;      /* F_GETLK */
	case 6: return 8;      /* F_SETLK */
	case 7: return 9;      /* F_SETLKW */
	case 8: return 10;     /* F_SETOWN */
	case 9: return 12;     /* F_GETOWN */
	case 10: return 13;    /* F_SETSIG */
	case 11: return 15;    /* F_GETSIG */
	case 15: return 21;    /* F_SETOWN_EX */
	case 16: return 22;    /* F_GETOWN_EX */
	case 36: return 30;    /* F_OFD_GETLK */
	case 37: return 31;    /* F_OFD_SETLK */
	case 38: return 32;    /* F_OFD_SETLKW */
	case 1024: return 23;  /* F_SETLEASE */
	case 1025: return 24;  /* F_GETLEASE */
	case 1026: return 27;  /* F_NOTIFY */
	case 1029: return 25;  /* F_CANCELLK */
	case 1030: return 26;  /* F_DUPFD_CLOEXEC */
	case 1031: return 28;  /* F_SETPIPE_SZ */
	case 1032: return 29;  /* F_GETPIPE_SZ */
	default: return 0;
	}
}

/* PTRACE_* request -> PPM_PTRACE_* */
static __always_inline u16 ptrace_request_to_scap(u64 r)
{
	switch (r) {
	case 0: return 1;   /* TRACEME */
	case 1: return 2;   /* PEEKTEXT */
	case 2: return 3;   /* PEEKDATA */
	case 3: return 4;   /* PEEKUSR */
	case 4: return 5;   /* POKETEXT */
	case 5: return 6;   /* POKEDATA */
	case 6: return 7;   /* POKEUSR */
	case 7: return 8;   /* CONT */
	case 8: return 9;   /* KILL */
	case 9: return 10;  /* SINGLESTEP */
	case 12: return 26; /* GETREGS */
	case 13: return 27; /* SETREGS */
	case 14: return 28; /* GETFPREGS */
	case 15: return 29; /* SETFPREGS */
	case 16: return 11; /* ATTACH */
	case 17: return 12; /* DETACH */
	case 18: return 30; /* GETFPXREGS */
	case 19: return 31; /* SETFPXREGS */
	case 21: return 32; /* OLDSETOPTIONS */
	case 24: return 13; /* SYSCALL */
	case 25: return 33; /* GET_THREAD_AREA */
	case 26: return 34; /* SET_THREAD_AREA */
	case 30: return 35; /* ARCH_PRCTL */
	case 31: return 36; /* SYSEMU */
	case 32: return 37; /* SYSEMU_SINGLESTEP */
	case 33: return 38; /* SINGLEBLOCK */
	case 0x4200: return 14; /* SETOPTIONS */
	case 0x4201: return 15; /* GETEVENTMSG */
	case 0x4202: return 16; /* GETSIGINFO */
	case 0x4203: return 17; /* SETSIGINFO */
	case 0x4204: return 18; /* GETREGSET */
	case 0x4205: return 19; /* SETREGSET */
	case 0x4206: return 20; /* SEIZE */
	case 0x4207: return 21; /* INTERRUPT */
	case 0x4208: return 22; /* LISTEN */
	case 0x4209: return 23; /* PEEKSIGINFO */
	case 0x420a: return 24; /* GETSIGMASK */
	case 0x420b: return 25; /* SETSIGMASK */
	default: return 0;
	}
}

/* MS_* mount flags equal PPM_MS_*; the legacy magic in the upper half is
 * dropped like the driver does. */
static __always_inline u32 mount_flags_to_scap(u64 f)
{
	if ((f & 0xffff0000) == 0xC0ED0000)
		f &= ~0xffff0000ULL;
	return f;
}

/* MNT_FORCE/DETACH/EXPIRE/UMOUNT_NOFOLLOW equal the PPM values. */
static __always_inline u32 umount_flags_to_scap(u64 f)
{
	return f & 0xf;
}

/* AT_EMPTY_PATH 0x1000 -> 1, AT_SYMLINK_NOFOLLOW 0x100 -> 2 */
static __always_inline u32 execveat_flags_to_scap(u64 f)
{
	u32 res = 0;
	if (f & 0x1000) res |= 1;
	if (f & 0x100) res |= 2;
	return res;
}

/* AT_SYMLINK_FOLLOW 0x400 and AT_EMPTY_PATH 0x1000 equal the PPM values. */
static __always_inline u32 linkat_flags_to_scap(u64 f)
{
	return f & (0x400 | 0x1000);
}

/* AT_REMOVEDIR 0x200 equals PPM_AT_REMOVEDIR. */
static __always_inline u32 unlinkat_flags_to_scap(u64 f)
{
	return f & 0x200;
}

/* RENAME_NOREPLACE/EXCHANGE/WHITEOUT equal the PPM values. */
static __always_inline u32 renameat2_flags_to_scap(u64 f)
{
	return f & 0x7;
}

/* F_OK/X_OK/W_OK/R_OK equal PPM_*_OK. */
static __always_inline u32 access_flags_to_scap(u64 f)
{
	return f & 0x7;
}

/* LOCK_SH/EX/NB/UN equal PPM_LOCK_*. */
static __always_inline u32 flock_flags_to_scap(u64 f)
{
	return f & 0xf;
}

/* SHUT_RD/WR/RDWR equal PPM_SHUT_*. */
static __always_inline u8 shutdown_how_to_scap(u64 h)
{
	return h;
}

/* RLIMIT_* numbering equals PPM_RLIMIT_*; unknown -> 255. */
static __always_inline u8 rlimit_resource_to_scap(u64 r)
{
	return r <= 15 ? r : 255;
}
