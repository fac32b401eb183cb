-- gosysdig's own lsof chisel: the open fds of every thread when the first event passes the
-- filters.
description = "This chisel prints the open file descriptors for every process in the system, with an output that is similar to the one of lsof. Output is at a point in time; adjust this in the filter.  It defaults to time of evt.num=0"
short_description = "List (and optionally filter) the open file descriptors."
category = "System State"

args = {
	{
		name = "filter",
		description = "A sysdig-like filter expression that allows restricting the FD list. E.g. 'proc.name=foo and fd.name contains /etc'.",
		argtype = "filter",
		optional = true
	}
}

local gs = require("gs_common")

gs.state_snapshot(nil, function(filter)
	local threads = sysdig.get_thread_table(filter)
	print(gs.pad("COMMAND", 20) .. gs.pad("PID", 8) .. gs.pad("TID", 8) .. gs.pad("USER", 8) ..
		gs.pad("FD", 8) .. gs.pad("TYPE", 12) .. "NAME")
	for _, tid in ipairs(gs.by_tid(threads)) do
		local th = threads[tid]
		for fd, info in pairs(th.fdtable) do
			print(gs.pad(th.comm, 20) .. gs.pad(tostring(th.pid), 8) .. gs.pad(tostring(tid), 8) ..
				gs.pad(th.username, 8) .. gs.pad(tostring(fd), 8) .. gs.pad(tostring(info.type), 12) ..
				tostring(info.name))
		end
	end
end)
