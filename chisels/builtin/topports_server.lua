-- gosysdig's own topports_server chisel: same table as sysdig's, computed by gs_common.top.
description = "Shows the top TCP/UDP server ports in terms of total (in+out) bandwidth. This chisel is compatible with containers using the sysdig -pc or -pcontainer argument, otherwise no container information will be shown."
short_description = "Top TCP/UDP server ports by R+W bytes"
category = "Net"

args = {}

require("gs_common").top{
	keys = {"fd.sport"},
	key_descs = {"Srv Port"},
	-- with -pc (sysdig -pc): the container too
	pc_keys = {"fd.sport", "container.name"},
	pc_key_descs = {"Srv Port", "container.name"},
	value = "evt.rawarg.res",
	value_desc = "Bytes",
	filter = "(fd.type=ipv4 or fd.type=ipv6) and evt.is_io=true",
	top = 100,
	units = "bytes",
}
