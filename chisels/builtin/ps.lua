-- gosysdig's own ps chisel: the threads when the first event passes the filters.
description = "List the running processes, with an output that is similar to the one of ps. Output is at a point in time; adjust this in the filter. It defaults to time of evt.num=0"
short_description = "List (and optionally filter) the machine processes."
category = "System State"

args = {
	{
		name = "filter",
		description = "A sysdig-like filter expression that allows restricting the FD list. For example 'fd.name contains /etc' shows all the processes that have files open under /etc.",
		argtype = "filter",
		optional = true
	}
}

local gs = require("gs_common")

gs.state_snapshot(nil, function(filter)
	local threads = sysdig.get_thread_table(filter)
	print(gs.pad("TID", 8) .. gs.pad("PID", 8) .. gs.pad("USER", 12) .. gs.pad("VIRT", 11) ..
		gs.pad("RES", 11) .. gs.pad("FDLIMIT", 10) .. gs.pad("CMD", 20))
	for _, tid in ipairs(gs.by_tid(threads)) do
		local th = threads[tid]
		print(gs.pad(tostring(tid), 8) .. gs.pad(tostring(th.pid), 8) .. gs.pad(th.username, 12) ..
			gs.pad(gs.bytes(th.vmsize_kb * 1024), 11) .. gs.pad(gs.bytes(th.vmrss_kb * 1024), 11) ..
			gs.pad(tostring(th.fdlimit), 10) .. th.comm)
	end
end)
