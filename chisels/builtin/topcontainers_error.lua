-- gosysdig's own topcontainers_error chisel: failed system calls per container (the host left
-- out), computed by gs_common.top.
description = "Shows the top container in terms of system call errors."
short_description = "Top containers by number of errors"
category = "Errors"

args = {}

require("gs_common").top{
	keys = {"container.name"},
	key_descs = {"container.name"},
	value = "evt.count",
	value_desc = "#Errors",
	filter = "evt.failed=true and container.name!=host",
	top = 100,
	units = "none",
}
