-- gosysdig's own stderr chisel: what processes write to or read from fd 2.
description = "Print the standard error of any process on screen. Combine this script with a filter to limit the output to a specific process or pid."
short_description = "Print stderr of processes"
category = "I/O"

args = {}

require("gs_common").fd_data(2)
