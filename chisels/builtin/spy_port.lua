-- gosysdig's own spy_port chisel: the network payloads exchanged on one port, as sysdig's
-- spy_port prints them.
description = "Shows the network payloads exchanged using a given IP port number. You can combine this chisel with the -x, -X or -A sysdig command line switches to customize the screen output"
short_description = "Show the data exchanged using the given IP port number"
category = "Net"

args = {
	{name = "host_port", description = "The remote host IP port number", argtype = "int"},
	{name = "disable_color", description = "Set to 'disable_colors' if you want to disable color output", argtype = "string", optional = true},
}

require("gs_common").net_payloads("host_port", "fd.port", "Write")
