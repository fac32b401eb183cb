// Package event holds sysdig 0.29.3's event table, the Event view over one scap event, and the
// textual rendering sysdig gives each parameter type.
package event

//go:generate go run ../internal/gen/eventtable -ref ../../shared/reference -out table_gen.go

// ParamType is a scap parameter type (PT_*), numbered as in the driver's ppm_events_public.h.
type ParamType uint8

const (
	PTNone ParamType = iota
	PTInt8
	PTInt16
	PTInt32
	PTInt64
	PTUint8
	PTUint16
	PTUint32
	PTUint64
	PTCharbuf
	PTBytebuf
	PTErrno
	PTSockaddr
	PTSocktuple
	PTFd
	PTPid
	PTFdlist
	PTFspath
	PTSyscallid
	PTSigtype
	PTReltime
	PTAbstime
	PTPort
	PTL4proto
	PTSockfamily
	PTBool
	PTIpv4addr
	PTDyn
	PTFlags8
	PTFlags16
	PTFlags32
	PTUid
	PTGid
	PTDouble
	PTSigset
	PTCharbufarray
	PTCharbufPairArray
	PTIpv4net
	PTIpv6addr
	PTIpv6net
	PTIpaddr
	PTIpnet
	PTMode
	PTFsrelpath
	PTEnumflags8
	PTEnumflags16
	PTEnumflags32
	PTFd32
	PTPid32
)

// PrintFmt is a parameter's print format (PF_*).
type PrintFmt uint8

const (
	PFNa PrintFmt = iota
	PFDec
	PFHex
	PF10PaddedDec
	PFId
	PFDir
	PFOct
)

// Category bits (EC_*) and event flags (EF_*) as 0.29.3 numbers them.
const (
	ECUnknown    = 0
	ECOther      = 1
	ECFile       = 2
	ECNet        = 3
	ECIPC        = 4
	ECMemory     = 5
	ECProcess    = 6
	ECSleep      = 7
	ECSystem     = 8
	ECSignal     = 9
	ECUser       = 10
	ECTime       = 11
	ECProcessing = 12
	ECIORead     = 32
	ECIOWrite    = 33
	ECIOOther    = 34
	ECWait       = 64
	ECScheduler  = 128
	ECInternal   = 256

	EFCreatesFd      = 1
	EFDestroysFd     = 2
	EFUsesFd         = 4
	EFReadsFromFd    = 8
	EFWritesToFd     = 16
	EFModifiesState  = 32
	EFUnused         = 64
	EFWaits          = 128
	EFSkipParseReset = 256
	EFOldVersion     = 512
	EFDropSimpleCons = 1024
	EFLargePayload   = 2048
)

// Flag is one named value of a flag or enum table.
type Flag struct {
	Name  string
	Value uint64
}

// Param describes one event parameter.
type Param struct {
	Name      string
	Type      ParamType
	Fmt       PrintFmt
	Flags     []Flag // flag table for PT_FLAGS*/PT_MODE
	FlagsName string
	DirFd     int     // for PT_FSRELPATH: index of the dirfd parameter, else -1
	Dyn       []Param // for PT_DYN: the variants, selected by the first byte
}

// Info describes one event type.
type Info struct {
	Name     string
	Dir      byte // '>' enter, '<' exit
	Category uint32
	Flags    uint32
	Params   []Param
	Unknown  bool // not known to 0.29.3: skipped when read
}

// MaxType is one past the highest event id 0.29.3 knows (PPM_EVENT_MAX).
const MaxType = 336

// Lookup returns the table entry of an event type, or nil when 0.29.3 does not know it.
func Lookup(t uint16) *Info {
	if int(t) >= MaxType || int(t) >= len(table) || table[t].Unknown {
		return nil
	}
	return &table[t]
}

// Large reports whether an event type's parameter lengths are u32 rather than u16.
func (i *Info) Large() bool { return i.Flags&EFLargePayload != 0 }

// FlagTable returns a flag table by its reference name (e.g. "file_flags").
func FlagTable(name string) []Flag { return flagTables[name] }

// ErrnoName returns the errno's name (ENOENT for 2) or "".
func ErrnoName(e int64) string {
	if e < 0 || e >= int64(len(errnoNames)) {
		return ""
	}
	return errnoNames[e]
}

// SignalName returns SIGKILL for 9, or "".
func SignalName(s uint64) string {
	if s >= uint64(len(signalNames)) {
		return ""
	}
	return signalNames[s]
}

// KnownSyscall reports whether code is in 0.29.3's system call table.
func KnownSyscall(code uint16) bool {
	return int(code) < len(syscallNames) && syscallNames[code] != ""
}

// SyscallName returns the 0.29.3 name of a PPM_SC code, as generic events print it.
func SyscallName(code uint16) string {
	if int(code) >= len(syscallNames) || syscallNames[code] == "" {
		return "<unknown>"
	}
	return syscallNames[code]
}
