-- gosysdig's own topfiles_errors chisel: same table as sysdig's, computed by gs_common.top.
description = "Shows the top files in terms of I/O errors. This chisel is compatible with containers using the sysdig -pc or -pcontainer argument, otherwise no container information will be shown."
short_description = "Top files by number of errors"
category = "Errors"

args = {}

require("gs_common").top{
	keys = {"fd.name"},
	key_descs = {"Filename"},
	-- with -pc (sysdig -pc): the container too
	pc_keys = {"fd.name", "container.name"},
	pc_key_descs = {"Filename", "container.name"},
	value = "evt.count",
	value_desc = "#Errors",
	filter = "fd.type=file and evt.failed=true",
	top = 10,
	units = "none",
}
