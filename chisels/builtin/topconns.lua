-- gosysdig's own topconns chisel: same table as sysdig's, computed by gs_common.top.
description = "Shows the top network connections in terms of total (in+out) bandwidth. This chisel is compatible with containers using the sysdig -pc or -pcontainer argument, otherwise no container information will be shown."
short_description = "Top network connections by total bytes"
category = "Net"

args = {}

require("gs_common").top{
	keys = {"fd.l4proto", "fd.name"},
	key_descs = {"Proto", "Conn"},
	-- with -pc (sysdig -pc): the container too
	pc_keys = {"container.name", "fd.l4proto", "fd.name"},
	pc_key_descs = {"container.name", "Proto", "Conn"},
	value = "evt.rawarg.res",
	value_desc = "Bytes",
	filter = "(fd.type=ipv4 or fd.type=ipv6) and evt.is_io=true",
	top = 30,
	units = "bytes",
}
