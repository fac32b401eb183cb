// Package capture reads and writes sysdig's scap capture files.
package capture

// Block type codes, as libscap numbers them. The 0x80..ABCD codes are pre-release aliases that
// read exactly like the version named with them.
const (
	blockSHB = 0x0A0D0D0A

	blockMI    = 0x201
	blockMIInt = 0x8002ABCD

	blockPLV1    = 0x202
	blockPLV1Int = 0x8000ABCD
	blockPLV2    = 0x207
	blockPLV2Int = 0x8013ABCD
	blockPLV3    = 0x209
	blockPLV3Int = 0x8014ABCD
	blockPLV4    = 0x210
	blockPLV5    = 0x211
	blockPLV6    = 0x212
	blockPLV7    = 0x213
	blockPLV8    = 0x214
	blockPLV9    = 0x215

	blockFDL    = 0x203
	blockFDLInt = 0x8001ABCD
	blockFDLV2  = 0x218

	blockIL    = 0x205
	blockILInt = 0x8011ABCD
	blockILV2  = 0x219

	blockUL    = 0x206
	blockULInt = 0x8012ABCD
	blockULV2  = 0x220

	blockEV         = 0x204
	blockEVInt      = 0x8010ABCD
	blockEVF        = 0x208
	blockEVV2       = 0x216
	blockEVFV2      = 0x217
	blockEVV2Large  = 0x221
	blockEVFV2Large = 0x222

	shbMagic = 0x1A2B3C4D
)

// plVersion maps a process-list block code to its layout version (1-9), or 0.
func plVersion(code uint32) int {
	switch code {
	case blockPLV1, blockPLV1Int:
		return 1
	case blockPLV2, blockPLV2Int:
		return 2
	case blockPLV3, blockPLV3Int:
		return 3
	case blockPLV4:
		return 4
	case blockPLV5:
		return 5
	case blockPLV6:
		return 6
	case blockPLV7:
		return 7
	case blockPLV8:
		return 8
	case blockPLV9:
		return 9
	}
	return 0
}

func isEventBlock(code uint32) bool {
	switch code {
	case blockEV, blockEVInt, blockEVF, blockEVV2, blockEVFV2, blockEVV2Large, blockEVFV2Large:
		return true
	}
	return false
}

// FD types (scap_fd_type) as stored in fd lists.
const (
	FDUnknown     = 0
	FDFile        = 1
	FDDirectory   = 2
	FDIPv4Sock    = 3
	FDIPv6Sock    = 4
	FDIPv4Server  = 5
	FDIPv6Server  = 6
	FDFifo        = 7
	FDUnixSock    = 8
	FDEvent       = 9
	FDUnsupported = 10
	FDSignalfd    = 11
	FDEventpoll   = 12
	FDInotify     = 13
	FDTimerfd     = 14
	FDNetlink     = 15
	FDFileV2      = 16
)

// MachineInfo is the capture's MI block.
type MachineInfo struct {
	NumCPUs  uint32
	MemBytes uint64
	MaxPid   uint64
	Hostname string
}

// Thread is one process-list entry.
type Thread struct {
	Tid, Pid, Ptid, Sid, Vpgid  int64
	Comm, Exe, Exepath          string
	Args                        []string
	Cwd                         string
	FdLimit                     int64
	Flags                       uint32
	Uid, Gid                    uint32
	VmSizeKB, VmRssKB, VmSwapKB uint32
	PfMajor, PfMinor            uint64
	Env                         []string
	Vtid, Vpid                  int64
	Cgroups                     []string
	Root                        string
	LoginUid                    int32
	ExeWritable                 bool
	// Capability sets (CapInh, CapPrm, CapEff of /proc/PID/status). Not in the scap
	// process list sysdig 0.29.3 writes and reads: live only, never written by -w.
	CapInheritable, CapPermitted, CapEffective uint64
	CapsKnown                                  bool // the Cap* sets were read
	// The executable's inode, ctime and mtime (ns), from a stat of /proc/PID/exe; live only.
	ExeIno, ExeInoCtime, ExeInoMtime uint64
	FDs                              []FD
}

// FD is one fd-list entry.
type FD struct {
	Fd        int64
	Ino       uint64
	Type      uint8 // FD* constants; FILE_V2 entries are reported as FDFile with OpenFlags set
	Sip, Dip  [16]byte
	Sport     uint16
	Dport     uint16
	L4Proto   uint8
	Source    uint64 // unix sockets
	Dest      uint64
	Name      string
	OpenFlags uint32
	Dev       uint32
}

// User and Group are user-list entries.
type User struct {
	Uid, Gid          uint32
	Name, Home, Shell string
}

type Group struct {
	Gid  uint32
	Name string
}

// Interface is one network interface (IPv4 addresses in the first 4 bytes).
type Interface struct {
	Type                 uint16 // 1/3 IPv4, 2/4 IPv6
	Name                 string
	Addr, Netmask, Bcast [16]byte
	LinkSpeed            uint64
}

// Header is what a capture says before its first event.
type Header struct {
	Major, Minor uint16
	Machine      *MachineInfo
	Threads      []Thread
	Users        []User
	Groups       []Group
	Interfaces   []Interface
}
