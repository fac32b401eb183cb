package fields

// Categories sysdig 0.29.3 reports for generic (non-instrumented) system calls, by syscall id
// (PPM_SC_*), measured by replaying a generic event for every id through sysdig. I/O calls show
// as "unknown" since a generic event carries no fd.

var genericCategoryNames = [...]string{"IPC", "file", "memory", "net", "other", "process", "signal", "sleep", "system", "time", "unknown", "user", "wait"}

const genericCategoryCodes = "" +
	"eifkkbbbbbbjbbbbfbejbmjbkabbbkajcfkmffabkfffiffjjbbbffibbbbbffbbijjiemiikiiciiifbifbmbkkkf" +
	"kccccffffhfffhbmfggggggbffbfbllllllllbllllbllllfccfbbbbbbbbbbbbgaffffkkkkkkmmmbfjjjjjjjjhg" +
	"baaaaaaimiiiffaaabbbbbbbbbbbbmmfffaaafmbgjajjgamkaakkeeafebfaddddddddddddddddddaaaaaaaaaab" +
	"bbbfegadbbbbbmgggibgfjbmbbfagkkkkkkkkkkkkkkkieekkkbbbbiibff"

func genericCategory(id uint16) string {
	if int(id) >= len(genericCategoryCodes) {
		return "unknown"
	}
	return genericCategoryNames[genericCategoryCodes[id]-'a']
}
