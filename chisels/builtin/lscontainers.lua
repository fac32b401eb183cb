-- gosysdig's own lscontainers chisel: the containers known when the first event arrives, as a
-- table or (argument "desc") as a Lua-like data structure.
description = "List the running containers and the metadata"
short_description = "List the running containers"
category = "System State"

args = {
	{
		name = "desc",
		description = "Prints the result set as a data structure",
		argtype = "string",
		optional = true,
	},
}

local gs = require("gs_common")

local as_struct = false
local started = false

function on_set_arg(name, val)
	if name == "desc" and val == "desc" then
		as_struct = true
		return true
	end
	return false
end

function on_capture_start()
	started = true
	return true
end

function on_event()
	sysdig.end_capture()
	return true
end

local FIELDS = {"type", "image", "id", "name"}

-- print_struct prints the containers as nested tables, one field a line.
local function print_struct(list)
	local out = {"{"}
	for i, ct in ipairs(list) do
		out[#out + 1] = " " .. i .. " = {"
		for _, f in ipairs(FIELDS) do
			out[#out + 1] = "  " .. f .. " = " .. string.format("%q", tostring(ct[f])) .. ","
		end
		out[#out + 1] = " },"
	end
	out[#out + 1] = "}"
	print(table.concat(out, "\n"))
end

-- print_table prints one container a line under a header.
local function print_table(list)
	local widths = {15, 16, 20, 13}
	local cols = {"type", "image", "name", "id"}
	local head, dashes = "", ""
	for i, c in ipairs(cols) do
		head = head .. gs.pad("container." .. c, widths[i])
		dashes = dashes .. gs.pad(string.rep("-", widths[i]), widths[i])
	end
	print(head)
	print(dashes)
	for _, ct in ipairs(list) do
		local row = ""
		for i, c in ipairs(cols) do
			row = row .. gs.pad(tostring(ct[c]), widths[i])
		end
		print(row)
	end
end

function on_capture_end()
	if not started then
		return true
	end
	local list = {}
	for _, ct in pairs(sysdig.get_container_table()) do
		list[#list + 1] = ct
	end
	table.sort(list, function(a, b) return tostring(a.id) < tostring(b.id) end)
	if as_struct then
		print_struct(list)
	else
		print_table(list)
	end
	return true
end
