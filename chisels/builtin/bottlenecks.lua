-- gosysdig's own bottlenecks chisel: the system calls that took longest to return, each with the
-- call's enter event seen last on its thread, as sysdig's bottlenecks prints them.
local TOP = 10

description = "Lists the " .. TOP .. " system calls that took the longest to return during the capture interval."
short_description = "Slowest system calls"
category = "Performance"

args = {}

local f = {}
local slowest = {} -- {latency, enter line, exit line}, slowest first, earlier first among equals
local entered = {} -- per thread: the line of its last enter event

function on_init()
	for _, n in ipairs({"evt.num", "evt.type", "evt.args", "evt.latency", "proc.name", "thread.tid"}) do
		f[n] = chisel.request_field(n)
	end
	return true
end

local function line(lat, arrow)
	return string.format("%d) %d.%.9d %s (%d) %s %s %s", evt.field(f["evt.num"]), lat / 1e9, lat % 1e9,
		evt.field(f["proc.name"]) or "", evt.field(f["thread.tid"]), arrow, evt.field(f["evt.type"]),
		evt.field(f["evt.args"]))
end

function on_event()
	if evt.field(f["evt.type"]) == "switch" then
		return true
	end
	local lat = evt.field(f["evt.latency"])
	local tid = evt.field(f["thread.tid"])
	if lat == 0 then
		entered[tid] = line(0, ">")
		return true
	end
	if lat == nil then
		return true
	end
	local pos = #slowest + 1
	for i, s in ipairs(slowest) do
		if lat > s[1] then
			pos = i
			break
		end
	end
	if pos <= TOP then
		table.insert(slowest, pos, {lat, entered[tid], line(lat, "<")})
		slowest[TOP + 1] = nil
	end
	return true
end

function on_capture_end()
	for _, s in ipairs(slowest) do
		print(s[2])
		print(s[3])
	end
	return true
end
