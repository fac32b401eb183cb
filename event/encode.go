package event

import "encoding/binary"

// AppendV2 appends a scap event with a v2 header (ts, tid, length, type, parameter count) and
// 16-bit parameter lengths, the layout of every event but the few with large parameters. It is
// how synthetic captures are built (the differential fuzzer, tests).
func AppendV2(dst []byte, ts uint64, tid int64, typ uint16, params ...[]byte) []byte {
	n := HeaderV2 + 2*len(params)
	for _, p := range params {
		n += len(p)
	}
	dst = binary.LittleEndian.AppendUint64(dst, ts)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(tid))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(n))
	dst = binary.LittleEndian.AppendUint16(dst, typ)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(params)))
	for _, p := range params {
		dst = binary.LittleEndian.AppendUint16(dst, uint16(len(p)))
	}
	for _, p := range params {
		dst = append(dst, p...)
	}
	return dst
}
