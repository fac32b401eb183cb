package main

import "github.com/gosysdig/gosysdig/event"

var paramTypeNames = map[event.ParamType]string{
	event.PTInt8: "INT8", event.PTInt16: "INT16", event.PTInt32: "INT32", event.PTInt64: "INT64",
	event.PTUint8: "UINT8", event.PTUint16: "UINT16", event.PTUint32: "UINT32", event.PTUint64: "UINT64",
	event.PTCharbuf: "CHARBUF", event.PTBytebuf: "BYTEBUF", event.PTErrno: "ERRNO",
	event.PTSockaddr: "SOCKADDR", event.PTSocktuple: "SOCKTUPLE", event.PTFd: "FD", event.PTPid: "PID",
	event.PTFdlist: "FDLIST", event.PTFspath: "FSPATH", event.PTSyscallid: "SYSCALLID",
	event.PTSigtype: "SIGTYPE", event.PTReltime: "RELTIME", event.PTAbstime: "ABSTIME",
	event.PTDyn: "DYNAMIC", event.PTFlags8: "FLAGS8", event.PTFlags16: "FLAGS16",
	event.PTFlags32: "FLAGS32", event.PTUid: "UID", event.PTGid: "GID", event.PTSigset: "SIGSET",
	event.PTMode: "MODE", event.PTFsrelpath: "FSRELPATH", event.PTCharbufarray: "CHARBUFARRAY",
	event.PTCharbufPairArray: "CHARBUF_PAIR_ARRAY", event.PTIpv4addr: "IPV4ADDR", event.PTIpv6addr: "IPV6ADDR",
	event.PTDouble: "DOUBLE", event.PTBool: "BOOL", event.PTPort: "PORT", event.PTL4proto: "L4PROTO",
	event.PTSockfamily: "SOCKFAMILY", event.PTIpv4net: "IPV4NET", event.PTIpv6net: "IPV6NET",
	event.PTIpaddr: "IPADDR", event.PTIpnet: "IPNET",
}

func paramTypeName(t event.ParamType) string {
	if n, ok := paramTypeNames[t]; ok {
		return n
	}
	return "UNKNOWN"
}
