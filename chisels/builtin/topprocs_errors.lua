-- gosysdig's own topprocs_errors chisel: same table as sysdig's, computed by gs_common.top.
description = "Shows the top processes in terms of system call errors. This chisel is compatible with containers using the sysdig -pc or -pcontainer argument, otherwise no container information will be shown."
short_description = "top processes by number of errors"
category = "Errors"

args = {}

require("gs_common").top{
	keys = {"proc.name", "proc.pid"},
	key_descs = {"Process", "PID"},
	-- with -pc (sysdig -pc): the container too
	pc_keys = {"proc.name", "proc.pid", "thread.vtid", "container.name"},
	pc_key_descs = {"Process", "Host_pid", "Container_pid", "container.name"},
	value = "evt.count",
	value_desc = "#Errors",
	filter = "evt.failed=true",
	top = 100,
	units = "none",
}
