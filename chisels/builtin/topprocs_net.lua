-- gosysdig's own topprocs_net chisel: same table as sysdig's, computed by gs_common.top.
description = "Shows the top processes in terms of network bandwidth usage. This chisel is compatible with containers using the sysdig -pc or -pcontainer argument, otherwise no container information will be shown."
short_description = "Top processes by network I/O"
category = "Net"

args = {}

require("gs_common").top{
	keys = {"proc.name", "proc.pid"},
	key_descs = {"Process", "PID"},
	-- with -pc (sysdig -pc): the container too
	pc_keys = {"proc.name", "proc.pid", "thread.vtid", "container.name"},
	pc_key_descs = {"Process", "Host_pid", "Container_pid", "container.name"},
	value = "evt.rawarg.res",
	value_desc = "Bytes",
	filter = "(fd.type=ipv4 or fd.type=ipv6) and evt.is_io=true",
	top = 100,
	units = "bytes",
}
