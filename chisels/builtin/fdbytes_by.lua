-- gosysdig's own fdbytes_by chisel: I/O bytes per value of the given field(s).
description = "Groups FD activity based on the given filter field, and returns the key that generated the most input+output bytes. For example, this script can be used to list the processes or TCP ports that generated most traffic."
short_description = "I/O bytes, aggregated by an arbitrary filter field"
category = "I/O"

args = {
	{
		name = "key",
		description = "The filter field used for grouping",
		argtype = "string"
	},
}

require("gs_common").top_by{
	value = "evt.rawarg.res",
	value_desc = "Bytes",
	filter = "evt.is_io=true and evt.failed=false",
	top = 30,
	units = "bytes",
}
