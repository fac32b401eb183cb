-- gosysdig's own stdout chisel: what processes write to or read from fd 1.
description = "Print the standard output of any process on screen. Combine this script with a filter to limit the output to a specific process or pid."
short_description = "Print stdout of processes"
category = "I/O"

args = {}

require("gs_common").fd_data(1)
