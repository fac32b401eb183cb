-- gosysdig's own fdtime_by chisel: time spent in I/O per value of the given field(s).
description = "Groups FD activity based on the given filter field, and returns the keys where most time was spent. For example, this script can be used to list the processes or files where most time was spent doing I/O."
short_description = "FD time group by"
category = "I/O"

args = {
	{
		name = "key",
		description = "The filter field used for grouping",
		argtype = "string"
	},
}

require("gs_common").top_by{
	value = "evt.latency",
	value_desc = "Time",
	filter = "evt.is_io=true",
	top = 10,
	units = "time",
}
