-- gosysdig's own netstat chisel: the network connections when the first event passes the filters.
description = "Print the system network connections, with an output that is similar to the one of netstat. Output is at a point in time; adjust this in the filter. It defaults to time of evt.num=0"
short_description = "List (and optionally filter) network connections."
category = "System State"

args = {
	{
		name = "filter",
		description = "A sysdig-like filter expression that allows restricting the FD list. E.g. 'proc.name=foo and fd.port=80'.",
		argtype = "filter",
		optional = true
	}
}

local gs = require("gs_common")

gs.state_snapshot("(fd.type=ipv4 or fd.type=ipv6)", function(filter)
	local threads = sysdig.get_thread_table(filter)
	print(gs.pad("Proto", 6) .. gs.pad("Server Address", 25) .. gs.pad("Client Address", 25) ..
		gs.pad("State", 15) .. "TID/PID/Program Name")
	for tid, th in pairs(threads) do
		for _, info in pairs(th.fdtable) do
			local client, state = "0.0.0.0:*", "LISTEN"
			if info.cip ~= nil then
				client = info.cip .. ":" .. info.cport
				state = "ESTABLISHED"
			end
			print(gs.pad(info.l4proto, 6) .. gs.pad(info.sip .. ":" .. info.sport, 25) ..
				gs.pad(client, 25) .. gs.pad(state, 15) .. tid .. "/" .. th.pid .. "/" .. th.comm)
		end
	end
end)
