-- gosysdig's own httptop chisel: the HTTP requests by method and URL, ranked by number of calls,
-- bytes answered or average time, as sysdig's httptop prints them (every second when live).
description = "Show top HTTP requests by: ncalls, time or bytes"
short_description = "Top HTTP requests"
category = "Application"

args = {
	{name = "by", description = "Show top HTTP transactions by: ncalls, time or bytes, default is ncalls", argtype = "string", optional = true},
}

local G = require("gs_common")
local http = G.http_parser()
local ESC = "\027["
local by = "ncalls"
local units = {ncalls = "none", bytes = "bytes", time = "time"}
local show_container = false
local live = false
local json = false
local seen = {} -- key -> transactions

function on_set_arg(name, val)
	if name ~= "by" then
		return nil
	end
	if units[val] == nil then
		print("Invalid argument! Valid options: ncalls, bytes, time")
		return false
	end
	by = val
	return true
end

function on_init()
	http.init()
	show_container = sysdig.is_print_container_data()
	return true
end

function on_event()
	http.event(function(tr)
		local key = tr.request.method .. "\001\001" .. tr.request.url
		if show_container then
			key = tr.container .. "\001\001" .. key
		end
		seen[key] = seen[key] or {}
		table.insert(seen[key], tr)
	end)
end

function on_capture_start()
	live = sysdig.is_live()
	json = sysdig.get_output_format() == "json"
	if live then
		chisel.set_interval_s(1)
		if not json then
			io.write(ESC .. "2J")
			io.write(ESC .. "?25l")
		end
	end
	return true
end

local function show(ts_s, delta)
	local totals = {}
	for key, trs in pairs(seen) do
		local v = 0
		for _, tr in ipairs(trs) do
			if by == "bytes" then
				v = v + tr.response.length
			elseif by == "time" then
				v = v + tr.response.ts - tr.request.ts
			end
		end
		if by == "ncalls" then
			v = #trs
		elseif by == "time" then
			v = v / #trs
		end
		totals[key] = v
	end
	local keys = {"method", "url"}
	if show_container then
		table.insert(keys, 1, "container")
	end
	local spec = {keys = keys, key_descs = keys, value = by, value_desc = by, units = units[by], top = 30}
	if json then
		-- sysdig's table puts the value third, over a third key
		spec.keys = {keys[1], keys[2]}
		spec.key_descs = spec.keys
		G.print_top_json(totals, spec, ts_s, 0)
	else
		G.print_top(totals, spec, delta)
	end
	seen = {}
end

function on_interval(ts_s, ts_ns, delta)
	if not json then
		io.write(ESC .. "2J")
		io.write(ESC .. "0;0H")
	end
	show(ts_s, delta)
	return true
end

function on_capture_end(ts_s, ts_ns, delta)
	if live and not json then
		io.write(ESC .. "2J")
		io.write(ESC .. "0;0H")
		io.write(ESC .. "?25h")
		return true
	end
	show(ts_s, delta)
	return true
end
