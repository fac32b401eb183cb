-- gosysdig's own topprocs_cpu chisel: CPU ticks from procinfo events, per process, as a share of
-- the capture's duration.
description = "Show the top process defined by the highest CPU utilization. This chisel is compatible with containers using the sysdig -pc or -pcontainer argument, otherwise no container information will be shown."
short_description = "Top processes by CPU usage"
category = "CPU Usage"

args = {}

require("gs_common").top{
	keys = {"proc.name", "proc.pid"},
	key_descs = {"Process", "PID"},
	-- with -pc (sysdig -pc): the container too
	pc_keys = {"proc.name", "proc.pid", "proc.vpid", "container.name"},
	pc_key_descs = {"Process", "Host_pid", "Container_pid", "container.name"},
	value = "thread.cpu",
	value_name = "thread.exectime", -- what sysdig names the column in -j output
	scale = 10000000, -- ticks of 10ms, in ns
	value_desc = "CPU%",
	filter = "evt.type=procinfo",
	top = 10,
	units = "timepct",
}
