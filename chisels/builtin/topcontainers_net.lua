-- gosysdig's own topcontainers_net chisel: network bytes sent and received per container (the
-- host left out), computed by gs_common.top.
description = "Sorted list of containers that use the most network bandwidth."
short_description = "Top containers by network I/O"
category = "Net"

args = {}

require("gs_common").top{
	keys = {"container.name"},
	key_descs = {"container.name"},
	value = "evt.rawarg.res",
	value_desc = "Bytes",
	filter = "(fd.type=ipv4 or fd.type=ipv6) and evt.is_io=true and container.name!=host",
	top = 100,
	units = "bytes",
}
