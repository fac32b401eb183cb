-- gosysdig's own spy_ip chisel: the network payloads exchanged with one IP address, as sysdig's
-- spy_ip prints them (its writes, too, are headed "Read").
description = "Shows the network payloads exchanged with an IP end-point. You can combine this chisel with the -x, -X or -A sysdig command line switches to customize the screen output"
short_description = "Show the data exchanged with the given IP address"
category = "Net"

args = {
	{name = "host_ip", description = "The remote host IP address", argtype = "ipv4"},
	{name = "disable_color", description = "Set to 'disable_colors' if you want to disable color output", argtype = "string", optional = true},
}

require("gs_common").net_payloads("host_ip", "fd.ip", "Read")
