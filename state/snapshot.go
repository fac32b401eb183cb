package state

import (
	"sort"

	"github.com/gosysdig/gosysdig/capture"
)

// Snapshot describes the current state the way a capture header does, so a capture file
// started in the middle of a stream (rotation) resolves processes, fds and users on its own.
func (in *Inspector) Snapshot() *capture.Header {
	h := &capture.Header{Major: 1, Minor: 2, Machine: in.Machine, Interfaces: in.Interfaces}
	tids := make([]int64, 0, len(in.threads))
	for tid := range in.threads {
		tids = append(tids, tid)
	}
	sort.Slice(tids, func(i, j int) bool { return tids[i] < tids[j] })
	for _, tid := range tids {
		t := in.threads[tid]
		ct := capture.Thread{
			Tid: t.Tid, Pid: t.Pid, Ptid: t.Ptid, Sid: t.Sid, Vpgid: t.Vpgid, Comm: t.Comm, Exe: t.Exe,
			Exepath: t.Exepath, Args: t.Args, Cwd: t.Cwd, FdLimit: t.FdLimit, Flags: t.Flags, Uid: t.Uid,
			Gid: t.Gid, VmSizeKB: t.VmSizeKB, VmRssKB: t.VmRssKB, VmSwapKB: t.VmSwapKB, PfMajor: t.PfMajor,
			PfMinor: t.PfMinor, Env: t.Env, Vtid: t.Vtid, Vpid: t.Vpid, Cgroups: t.Cgroups, Root: t.Root,
			LoginUid: int32(t.LoginUid), ExeWritable: t.ExeWritable,
		}
		// Threads sharing their process's table list no fds of their own.
		if t.fdt != nil && (t.Tid == t.Pid || in.threads[t.Pid] == nil || in.threads[t.Pid].fdt != t.fdt) {
			nums := make([]int64, 0, len(t.fdt.fds))
			for n := range t.fdt.fds {
				nums = append(nums, n)
			}
			sort.Slice(nums, func(i, j int) bool { return nums[i] < nums[j] })
			for _, n := range nums {
				f := t.fdt.fds[n]
				cf := capture.FD{Fd: f.Num, Ino: f.Ino, Type: f.Type, Sip: f.Sip, Dip: f.Dip, Sport: f.Sport,
					Dport: f.Dport, L4Proto: f.L4Proto, Source: f.Source, Dest: f.Dest, Name: f.Name,
					OpenFlags: f.OpenFlags, Dev: f.Dev}
				ct.FDs = append(ct.FDs, cf)
			}
		}
		h.Threads = append(h.Threads, ct)
	}
	uids := make([]uint32, 0, len(in.users))
	for uid := range in.users {
		uids = append(uids, uid)
	}
	sort.Slice(uids, func(i, j int) bool { return uids[i] < uids[j] })
	for _, uid := range uids {
		u := in.users[uid]
		h.Users = append(h.Users, capture.User{Uid: u.Uid, Gid: u.Gid, Name: u.Name, Home: u.Home, Shell: u.Shell})
	}
	gids := make([]uint32, 0, len(in.groups))
	for gid := range in.groups {
		gids = append(gids, gid)
	}
	sort.Slice(gids, func(i, j int) bool { return gids[i] < gids[j] })
	for _, gid := range gids {
		g := in.groups[gid]
		h.Groups = append(h.Groups, capture.Group{Gid: g.Gid, Name: g.Name})
	}
	return h
}
