/* Network fillers: sockaddr and socket-tuple encodings of PT_SOCKADDR and
 * PT_SOCKTUPLE (scap-param-types.tsv), and the socket calls. */
#pragma once

#include "common.h"
#include "flags.h"
#include "task.h"

#define L_AF_UNIX 1
#define L_AF_INET 2
#define L_AF_INET6 10

static __always_inline u16 bswap16(u16 v)
{
	return (v >> 8) | (v << 8);
}

/* Remote endpoint taken from a user sockaddr (connect/sendto address). */
struct endpoint {
	u8 family;
	u8 ok;
	u16 port; /* host order */
	u8 addr[16];
};

static __always_inline void read_user_endpoint(u64 uaddr, u64 ulen, struct endpoint *ep)
{
	u16 fam = 0;

	ep->ok = 0;
	if (!uaddr || ulen < 2)
		return;
	if (bpf_probe_read_user(&fam, 2, (void *)uaddr) < 0)
		return;
	if (fam == L_AF_INET && ulen >= sizeof(struct sockaddr_in)) {
		struct sockaddr_in sin;
		bpf_probe_read_user(&sin, sizeof(sin), (void *)uaddr);
		ep->family = L_AF_INET;
		ep->port = bswap16(sin.sin_port);
		__builtin_memcpy(ep->addr, &sin.sin_addr, 4);
		ep->ok = 1;
	} else if (fam == L_AF_INET6 && ulen >= sizeof(struct sockaddr_in6)) {
		struct sockaddr_in6 sin6;
		bpf_probe_read_user(&sin6, sizeof(sin6), (void *)uaddr);
		ep->family = L_AF_INET6;
		ep->port = bswap16(sin6.sin6_port);
		__builtin_memcpy(ep->addr, &sin6.sin6_addr, 16);
		ep->ok = 1;
	}
}

/* Writes a unix socket path (sun_path) at off; abstract names (leading
 * NUL) are written with a leading '@'. Returns bytes written incl. NUL. */
static __always_inline u32 write_sun_path(struct scratch *s, u32 off, const char *path, int user)
{
	char first = 0;
	long n;

	if (user)
		bpf_probe_read_user(&first, 1, path);
	else
		bpf_probe_read_kernel(&first, 1, path);
	if (first == 0) {
		s->buf[off & EV_MASK] = '@';
		if (user)
			n = bpf_probe_read_user_str(&s->buf[(off + 1) & EV_MASK], 108, path + 1);
		else
			n = bpf_probe_read_kernel_str(&s->buf[(off + 1) & EV_MASK], 108, path + 1);
		if (n <= 1) { /* unnamed socket: empty path */
			s->buf[off & EV_MASK] = 0;
			return 1;
		}
		return n + 1;
	}
	if (user)
		n = bpf_probe_read_user_str(&s->buf[off & EV_MASK], 109, path);
	else
		n = bpf_probe_read_kernel_str(&s->buf[off & EV_MASK], 109, path);
	if (n <= 0) {
		s->buf[off & EV_MASK] = 0;
		n = 1;
	}
	return n;
}

/* PT_SOCKADDR from a user pointer (bind, connect). */
static __always_inline void push_user_sockaddr(struct scratch *s, u64 uaddr, u64 ulen)
{
	u32 off = s->pos;
	u16 fam = 0;
	struct endpoint ep;

	if (!uaddr || ulen < 2 || bpf_probe_read_user(&fam, 2, (void *)uaddr) < 0) {
		push_empty(s);
		return;
	}
	if (fam == L_AF_UNIX) {
		s->buf[off & EV_MASK] = socket_family_to_scap(fam);
		ev_param_done(s, 1 + write_sun_path(s, off + 1, (const char *)uaddr + 2, 1));
		return;
	}
	read_user_endpoint(uaddr, ulen, &ep);
	if (!ep.ok) {
		s->buf[off & EV_MASK] = socket_family_to_scap(fam);
		ev_param_done(s, 1);
		return;
	}
	s->buf[off & EV_MASK] = ep.family;
	if (ep.family == L_AF_INET) {
		*(u32 *)&s->buf[(off + 1) & EV_MASK] = *(u32 *)ep.addr;
		*(u16 *)&s->buf[(off + 5) & EV_MASK] = ep.port;
		ev_param_done(s, 7);
	} else {
		__builtin_memcpy(&s->buf[(off + 1) & EV_MASK], ep.addr, 16);
		*(u16 *)&s->buf[(off + 17) & EV_MASK] = ep.port;
		ev_param_done(s, 19);
	}
}

/* PT_SOCKTUPLE of the socket behind fd. Outbound calls put the local end
 * first (sip:sport->dip:dport = us->peer), inbound ones (accept, recv*)
 * the remote end first, like the sysdig driver. A remote endpoint given by
 * the caller (connect/sendto address) overrides the socket's. */
static __always_inline void push_fd_tuple(struct scratch *s, s64 fd, int inbound, struct endpoint *remote)
{
	struct socket *sock = fd_socket(fd);
	struct sock *sk;
	u32 off = s->pos;
	u16 fam;

	if (!sock) {
		push_empty(s);
		return;
	}
	sk = BPF_CORE_READ(sock, sk);
	if (!sk) {
		push_empty(s);
		return;
	}
	fam = BPF_CORE_READ(sk, __sk_common.skc_family);
	s->buf[off & EV_MASK] = socket_family_to_scap(fam);

	if (fam == L_AF_INET) {
		u32 laddr = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		u16 lport = BPF_CORE_READ(sk, __sk_common.skc_num);
		u32 raddr = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		u16 rport = bswap16(BPF_CORE_READ(sk, __sk_common.skc_dport));
		if (remote && remote->ok && remote->family == L_AF_INET) {
			raddr = *(u32 *)remote->addr;
			rport = remote->port;
		}
		if (inbound) {
			*(u32 *)&s->buf[(off + 1) & EV_MASK] = raddr;
			*(u16 *)&s->buf[(off + 5) & EV_MASK] = rport;
			*(u32 *)&s->buf[(off + 7) & EV_MASK] = laddr;
			*(u16 *)&s->buf[(off + 11) & EV_MASK] = lport;
		} else {
			*(u32 *)&s->buf[(off + 1) & EV_MASK] = laddr;
			*(u16 *)&s->buf[(off + 5) & EV_MASK] = lport;
			*(u32 *)&s->buf[(off + 7) & EV_MASK] = raddr;
			*(u16 *)&s->buf[(off + 11) & EV_MASK] = rport;
		}
		ev_param_done(s, 13);
		return;
	}
	if (fam == L_AF_INET6) {
		struct in6_addr laddr = BPF_CORE_READ(sk, __sk_common.skc_v6_rcv_saddr);
		struct in6_addr raddr = BPF_CORE_READ(sk, __sk_common.skc_v6_daddr);
		u16 lport = BPF_CORE_READ(sk, __sk_common.skc_num);
		u16 rport = bswap16(BPF_CORE_READ(sk, __sk_common.skc_dport));
		if (remote && remote->ok && remote->family == L_AF_INET6) {
			__builtin_memcpy(&raddr, remote->addr, 16);
			rport = remote->port;
		}
		u32 o = off + 1;
		__builtin_memcpy(&s->buf[o & EV_MASK], inbound ? &raddr : &laddr, 16);
		*(u16 *)&s->buf[(o + 16) & EV_MASK] = inbound ? rport : lport;
		__builtin_memcpy(&s->buf[(o + 18) & EV_MASK], inbound ? &laddr : &raddr, 16);
		*(u16 *)&s->buf[(o + 34) & EV_MASK] = inbound ? lport : rport;
		ev_param_done(s, 37);
		return;
	}
	if (fam == L_AF_UNIX) {
		struct unix_sock *us = (struct unix_sock *)sk;
		struct sock *peer = BPF_CORE_READ(us, peer);
		struct unix_address *addr = NULL;
		u32 n;

		*(u64 *)&s->buf[(off + 1) & EV_MASK] = (u64)sk;
		*(u64 *)&s->buf[(off + 9) & EV_MASK] = (u64)peer;
		/* The name is the server's: the peer's address for a client,
		 * our own for a server-side or bound socket. */
		if (peer)
			addr = BPF_CORE_READ((struct unix_sock *)peer, addr);
		if (!addr)
			addr = BPF_CORE_READ(us, addr);
		if (addr)
			n = write_sun_path(s, off + 17, (const char *)addr->name[0].sun_path, 0);
		else {
			s->buf[(off + 17) & EV_MASK] = 0;
			n = 1;
		}
		ev_param_done(s, 17 + n);
		return;
	}
	ev_param_done(s, 1);
}

static __always_inline u64 msghdr_iov_total(struct user_msghdr *m)
{
	return iov_total((u64)m->msg_iov, m->msg_iovlen);
}

FILLER(net)
{
	SCRATCH_OR_RETURN(s);
	u64 *a = s->args;
	s64 ret = s->ret;
	struct endpoint ep = {};

	switch (s->evt) {
	case 18: /* socket E: domain, type, proto */
	case 42: /* socketpair E */
		push_u32(s, socket_family_to_scap(a[0]));
		push_u32(s, a[1]);
		push_u32(s, a[2]);
		break;
	case 21: /* bind X: res, addr */
		push_u64(s, ret);
		push_user_sockaddr(s, a[1], a[2]);
		break;
	case 22: /* connect E: fd, addr */
		push_s32_as_s64(s, a[0]);
		push_user_sockaddr(s, a[1], a[2]);
		break;
	case 23: /* connect X: res, tuple */
		push_u64(s, ret);
		read_user_endpoint(a[1], a[2], &ep);
		push_fd_tuple(s, (s32)a[0], 0, &ep);
		break;
	case 24: /* listen E: fd, backlog */
		push_s32_as_s64(s, a[0]);
		push_u32(s, a[1]);
		break;
	case 248: /* accept4 E: flags, always 0 like the 0.29.3 driver */
		push_u32(s, 0);
		break;
	case 247: /* accept X: fd, tuple, queuepct, queuelen, queuemax */
	case 249:
	{
		struct socket *ls = fd_socket((s32)a[0]);
		u32 qlen = 0, qmax = 0;
		if (ls) {
			struct sock *lsk = BPF_CORE_READ(ls, sk);
			qlen = BPF_CORE_READ(lsk, sk_ack_backlog);
			qmax = BPF_CORE_READ(lsk, sk_max_ack_backlog);
		}
		push_u64(s, ret);
		if (ret >= 0)
			push_fd_tuple(s, ret, 1, NULL);
		else
			push_empty(s);
		push_u8(s, qmax ? (qlen * 100) / qmax : 0);
		push_u32(s, qlen);
		push_u32(s, qmax);
		break;
	}
	case 28: case 32: case 34: /* send, recv, recvfrom E: fd, size */
		push_s32_as_s64(s, a[0]);
		push_u32(s, a[2]);
		break;
	case 30: /* sendto E: fd, size, tuple */
		push_s32_as_s64(s, a[0]);
		push_u32(s, a[2]);
		read_user_endpoint(a[4], a[5], &ep);
		push_fd_tuple(s, (s32)a[0], 0, &ep);
		break;
	case 29: case 31: /* send/sendto X: res, data (attempted data on failure) */
		push_u64(s, ret);
		push_data(s, a[1], ret > 0 ? ret : (s64)a[2]);
		break;
	case 33: /* recv X: res, data */
		push_u64(s, ret);
		push_data(s, a[1], ret);
		break;
	case 35: /* recvfrom X: res, data, tuple */
		push_u64(s, ret);
		push_data(s, a[1], ret);
		if (ret >= 0) {
			u32 alen = 0;
			if (a[5])
				bpf_probe_read_user(&alen, 4, (void *)a[5]);
			read_user_endpoint(a[4], alen, &ep);
			push_fd_tuple(s, (s32)a[0], 1, &ep);
		} else {
			push_empty(s);
		}
		break;
	case 36: /* shutdown E: fd, how */
		push_s32_as_s64(s, a[0]);
		push_u8(s, shutdown_how_to_scap(a[1]));
		break;
	case 43: /* socketpair X: res, fd1, fd2, source, peer */
	{
		s32 fds[2] = {-1, -1};
		u64 src = 0, peer = 0;
		bpf_probe_read_user(fds, sizeof(fds), (void *)a[3]);
		if (ret >= 0) {
			struct socket *sock = fd_socket(fds[0]);
			if (sock) {
				struct sock *sk = BPF_CORE_READ(sock, sk);
				src = (u64)sk;
				peer = (u64)BPF_CORE_READ((struct unix_sock *)sk, peer);
			}
		}
		push_u64(s, ret);
		push_u64(s, (s64)fds[0]);
		push_u64(s, (s64)fds[1]);
		push_u64(s, src);
		push_u64(s, peer);
		break;
	}
	case 48: /* sendmsg E: fd, size, tuple */
	{
		struct user_msghdr m = {};
		bpf_probe_read_user(&m, sizeof(m), (void *)a[1]);
		push_s32_as_s64(s, a[0]);
		push_u32(s, msghdr_iov_total(&m));
		read_user_endpoint((u64)m.msg_name, m.msg_namelen, &ep);
		push_fd_tuple(s, (s32)a[0], 0, &ep);
		break;
	}
	case 49: /* sendmsg X: res, data */
	{
		struct user_msghdr m = {};
		bpf_probe_read_user(&m, sizeof(m), (void *)a[1]);
		push_u64(s, ret);
		push_iov_data(s, (u64)m.msg_iov, m.msg_iovlen, ret);
		break;
	}
	case 53: /* recvmsg X: res, size, data, tuple */
	{
		struct user_msghdr m = {};
		bpf_probe_read_user(&m, sizeof(m), (void *)a[1]);
		push_u64(s, ret);
		push_u32(s, msghdr_iov_total(&m));
		push_iov_data(s, (u64)m.msg_iov, m.msg_iovlen, ret);
		if (ret >= 0) {
			read_user_endpoint((u64)m.msg_name, m.msg_namelen, &ep);
			push_fd_tuple(s, (s32)a[0], 1, &ep);
		} else {
			push_empty(s);
		}
		break;
	}
	}
	return ev_submit(s);
}

/* SOL_SOCKET option numbers equal PPM_SOCKOPT_* up to 50. */
static __always_inline u8 sockopt_optname_to_scap(u64 level, u64 opt)
{
	if (level != 1)
		return 0;
	if (opt <= 50)
		return opt;
	if (opt == 55) return 52; /* SO_MEMINFO */
	if (opt == 57) return 53; /* SO_COOKIE */
	if (opt == 59) return 51; /* SO_PEERGROUPS */
	return 0;
}

/* setsockopt/getsockopt X: res, fd, level, optname, val (PT_DYN), optlen.
 * val variants (sockopt_dynamic_param): 1 errno for SO_ERROR, 4 reltime
 * for the timeouts, 2 u32 for 4-byte values, 3 u64 for 8-byte values,
 * 0 raw bytes otherwise. */
FILLER(sockopt)
{
	SCRATCH_OR_RETURN(s);
	u64 *a = s->args;
	u64 level = a[1], opt = a[2];
	u32 optlen = a[4];
	u32 off;

	if (s->evt == 47 && a[4])
		bpf_probe_read_user(&optlen, 4, (void *)a[4]);
	push_u64(s, s->ret);
	push_s32_as_s64(s, a[0]);
	push_u8(s, level == 1 ? 1 : (level == 6 ? 2 : 0));
	push_u8(s, sockopt_optname_to_scap(level, opt));
	off = s->pos;
	if (s->ret < 0 || !a[3]) {
		s->buf[off & EV_MASK] = 0;
		ev_param_done(s, 1);
	} else if (level == 1 && opt == 4 /* SO_ERROR */) {
		s32 v = 0;
		bpf_probe_read_user(&v, 4, (void *)a[3]);
		s->buf[off & EV_MASK] = 1;
		*(s64 *)&s->buf[(off + 1) & EV_MASK] = -(s64)v;
		ev_param_done(s, 9);
	} else if (level == 1 && (opt == 20 || opt == 21) && optlen >= 16) {
		struct { s64 sec, usec; } tv = {};
		bpf_probe_read_user(&tv, sizeof(tv), (void *)a[3]);
		s->buf[off & EV_MASK] = 4;
		*(u64 *)&s->buf[(off + 1) & EV_MASK] = tv.sec * 1000000000ULL + tv.usec * 1000;
		ev_param_done(s, 9);
	} else if (optlen == 4) {
		u32 v = 0;
		bpf_probe_read_user(&v, 4, (void *)a[3]);
		s->buf[off & EV_MASK] = 2;
		*(u32 *)&s->buf[(off + 1) & EV_MASK] = v;
		ev_param_done(s, 5);
	} else if (optlen == 8) {
		u64 v = 0;
		bpf_probe_read_user(&v, 8, (void *)a[3]);
		s->buf[off & EV_MASK] = 3;
		*(u64 *)&s->buf[(off + 1) & EV_MASK] = v;
		ev_param_done(s, 9);
	} else {
		u32 n = optlen > 256 ? 256 : optlen;
		s->buf[off & EV_MASK] = 0;
		if (n && bpf_probe_read_user(&s->buf[(off + 1) & EV_MASK], n & 511, (void *)a[3]) < 0)
			n = 0;
		ev_param_done(s, 1 + n);
	}
	push_u32(s, optlen);
	return ev_submit(s);
}
