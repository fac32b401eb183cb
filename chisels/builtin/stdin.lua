-- gosysdig's own stdin chisel: what processes write to or read from fd 0.
description = "Print the standard input of any process on screen. Combine this script with a filter to limit the output to a specific process or pid."
short_description = "Print stdin of processes"
category = "I/O"

args = {}

require("gs_common").fd_data(0)
