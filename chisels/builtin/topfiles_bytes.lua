-- gosysdig's own topfiles_bytes chisel: same table as sysdig's, computed by gs_common.top.
description = "Shows the top files in terms of disk usage. This chisel is compatible with containers using the sysdig -pc or -pcontainer argument, otherwise no container information will be shown."
short_description = "Top files by R+W bytes"
category = "I/O"

args = {}

require("gs_common").top{
	keys = {"fd.name"},
	key_descs = {"Filename"},
	value = "evt.rawarg.res",
	value_desc = "Bytes",
	filter = "fd.type=file and evt.is_io=true",
	top = 10,
	units = "bytes",
}
