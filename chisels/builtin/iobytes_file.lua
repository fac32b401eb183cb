-- gosysdig's own iobytes_file chisel.
description = "Counts the total bytes read from and written to files."
short_description = "Sum of file I/O bytes"
category = "I/O"

args = {}

require("gs_common").io_totals("evt.is_io=true and fd.type=file")
