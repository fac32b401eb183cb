-- gosysdig's own netlower chisel: network I/O slower than a threshold, as sysdig's netlower
-- prints it.
description = "Trace network I/O slower than a threshold, or all network I/O. This chisel is compatible with containers using the sysdig -pc or -pcontainer argument, otherwise no container information will be shown. (Blue represents a process running within a container, and Green represents a host process)"
short_description = "Trace slow network I/0"
category = "Performance"

args = {
	{name = "min_ms", description = "Minimum millisecond threshold for showing network I/O", argtype = "int", optional = false},
	{name = "disable_color", description = "Set to 'disable_colors' if you want to disable color output", argtype = "string", optional = true},
}

require("gs_common").slow_io("evt.is_io=true and (fd.type=ipv4 or fd.type=ipv6)", false)
