-- gosysdig's own iobytes chisel.
description = "Counts the total bytes read from and written to any type of FD (disk, socket, pipe...) and prints the result every second."
short_description = "Sum of I/O bytes on any type of FD"
category = "I/O"

args = {}

require("gs_common").io_totals("evt.is_io=true")
