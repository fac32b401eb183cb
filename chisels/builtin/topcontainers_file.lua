-- gosysdig's own topcontainers_file chisel: disk bytes read and written per container (the host
-- left out), computed by gs_common.top.
description = "Shows the top containers in terms of total (in+out) bytes to disk."
short_description = "Top containers by R+W disk bytes"
category = "I/O"

args = {}

require("gs_common").top{
	keys = {"container.name"},
	key_descs = {"container.name"},
	value = "evt.rawarg.res",
	value_desc = "Bytes",
	filter = "fd.type=file and evt.is_io=true and container.name!=host",
	top = 10,
	units = "bytes",
}
