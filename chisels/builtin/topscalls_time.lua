-- gosysdig's own topscalls_time chisel: same table as sysdig's, computed by gs_common.top.
description = "Show the top 30 system calls in terms of time spent in them. You can use filters to restrict this to a specific process, thread or file. This chisel is compatible with containers using the sysdig -pc or -pcontainer argument, otherwise no container information will be shown."
short_description = "Top system calls by time"
category = "Performance"

args = {}

require("gs_common").top{
	keys = {"evt.type"},
	key_descs = {"Syscall"},
	-- with -pc (sysdig -pc): the container too
	pc_keys = {"evt.type", "container.name"},
	pc_key_descs = {"Syscall", "container.name"},
	value = "evt.latency",
	value_desc = "Time",
	filter = "",
	top = 30,
	units = "time",
}
