-- gosysdig's own fdcount_by chisel: distinct fds (number and name) used, per key.
description = "Groups all the active FDs based on the given filter field, and returns the fd count for each key. For example, it can be used to list the number of connections per process or per IP endpoint."
short_description = "FD count, aggregated by an arbitrary filter field"
category = "I/O"

args = {
	{
		name = "key",
		description = "The filter field used for grouping",
		argtype = "string"
	},
}

local gs = require("gs_common")
local key_field = ""
local fkey, fnum, fname
local groups = {} -- key -> {fds = set of "num name", n = count}

function on_set_arg(name, val)
	if name == "key" then
		key_field = val
		return true
	end
	return false
end

function on_init()
	fkey = chisel.request_field(key_field)
	fnum = chisel.request_field("fd.num")
	fname = chisel.request_field("fd.name")
	-- on_event skips these events anyway: the filter keeps them out of the Lua VM
	chisel.set_filter("fd.num > 0")
	if chisel.count_distinct ~= nil then
		-- the loop below, run in Go (chisels/distinct.go): same checks, same counts
		chisel.count_distinct(fkey, {fnum, fname})
	end
	return true
end

function on_event()
	local key = evt.field(fkey)
	local num = evt.field(fnum)
	local name = evt.field(fname)
	if key == nil or num == nil or num <= 0 or name == nil or name == "" then
		return true
	end
	local g = groups[key]
	if g == nil then
		g = {fds = {}, n = 0}
		groups[key] = g
	end
	local id = tostring(num) .. name
	if not g.fds[id] then
		g.fds[id] = true
		g.n = g.n + 1
	end
	return true
end

function on_capture_end()
	if chisel.count_distinct ~= nil then
		-- key -> count, its keys inserted in the order the loop below inserts them
		local counts = chisel.count_distinct_take()
		for _, k in ipairs(gs.sorted_keys(counts, 0, function(t, a, b) return t[a] > t[b] end)) do
			print(k, counts[k])
		end
		return true
	end
	local keys = gs.sorted_keys(groups, 0, function(t, a, b) return t[a].n > t[b].n end)
	for _, k in ipairs(keys) do
		print(k, groups[k].n)
	end
	return true
end
