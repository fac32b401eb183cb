-- gosysdig's own topfiles_time chisel: same table as sysdig's, computed by gs_common.top.
description = "Shows the top files in terms of time spent in their I/O calls. This chisel is compatible with containers using the sysdig -pc or -pcontainer argument, otherwise no container information will be shown."
short_description = "Top files by time"
category = "I/O"

args = {}

require("gs_common").top{
	keys = {"fd.name"},
	key_descs = {"Filename"},
	-- with -pc (sysdig -pc): the container too
	pc_keys = {"fd.name", "container.name"},
	pc_key_descs = {"Filename", "container.name"},
	value = "evt.latency",
	value_desc = "Time",
	filter = "fd.type=file and evt.is_io=true",
	top = 10,
	units = "time",
}
