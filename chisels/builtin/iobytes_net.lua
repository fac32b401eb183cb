-- gosysdig's own iobytes_net chisel.
description = "Counts the total bytes read from and written to the network, and prints the result every second"
short_description = "Show total network I/O bytes"
category = "Net"

args = {}

require("gs_common").io_totals("evt.is_io=true and (fd.type=ipv4 or fd.type=ipv6)")
