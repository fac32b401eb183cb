-- gosysdig's own topcontainers_cpu chisel: CPU ticks from procinfo events, per container, as a
-- share of the capture's duration.
description = "Show the top containers defined by the highest CPU utilization."
short_description = "Top containers by CPU usage"
category = "CPU Usage"

args = {}

require("gs_common").top{
	keys = {"container.name"},
	key_descs = {"container.name"},
	value = "thread.cpu",
	value_name = "thread.exectime", -- what sysdig names the column in -j output
	scale = 10000000, -- ticks of 10ms, in ns
	value_desc = "CPU%",
	filter = "evt.type=procinfo",
	top = 10,
	units = "timepct",
}
