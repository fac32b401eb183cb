-- gosysdig's own scallslower chisel: the system calls slower than a threshold, as sysdig's
-- scallslower prints them (latency in ms as a plain Lua number).
description = "Trace syscalls slower than a threshold milliseconds. This chisel is compatible with containers using the sysdig -pc or -pcontainer argument, otherwise no container information will be shown. (Blue represents a process running within a container, and Green represents a host process)"
short_description = "Trace slow syscalls"
category = "Performance"

args = {
	{name = "min_ms", description = "Minimum milliseconds before which a syscall should complete", argtype = "int", optional = false},
	{name = "disable_color", description = "Set to 'disable_colors' if you want to disable color output", argtype = "string", optional = true},
}

local G = require("gs_common")
local col = G.ansi(true)
local min_ms
local f = {}
local show_container = false

function on_set_arg(name, val)
	if name == "disable_color" and val == "disable_color" then
		col = G.ansi(false)
	elseif name == "min_ms" then
		min_ms = G.number_arg(val, name)
	end
	return true
end

function on_init()
	for _, n in ipairs({"evt.type", "evt.datetime", "proc.name", "evt.latency", "container.name", "container.id"}) do
		f[n] = chisel.request_field(n)
	end
	show_container = sysdig.is_print_container_data()
	local d23, d20 = string.rep("-", 23), string.rep("-", 20)
	if show_container then
		-- sysdig's header has two spaces before container.name, its dashes one
		print(string.format("%-23.23s %-20.20s  %-20.20s %-23.23s %-20s %s", "evt.datetime", "container.id", "container.name", "proc.name", "LATENCY(ms)", "evt.type"))
		print(string.format("%-23.23s %-20.20s %-20.20s %-23.23s %-20s %s", d23, d20, d20, d23, d20, d20))
	else
		print(string.format("%-23.23s %-23.23s %-20s %s", "evt.datetime", "proc.name", "LATENCY(ms)", "evt.type"))
		print(string.format("%-23.23s %-23.23s %-20s %s", d23, d23, d20, d20))
	end
	return true
end

function on_event()
	local lat = evt.field(f["evt.latency"])
	if lat == nil then
		return
	end
	lat = lat / 1e6
	if not (lat > min_ms) then
		return
	end
	local cname = evt.field(f["container.name"])
	local color = col.green
	if cname ~= "host" then
		color = col.blue
	end
	if show_container then
		print(color .. string.format("%-23.23s %-20.20s %-20.20s %-23.23s %-20s %s", evt.field(f["evt.datetime"]),
			evt.field(f["container.id"]), cname, evt.field(f["proc.name"]), lat, evt.field(f["evt.type"])))
	else
		print(color .. string.format("%-23.23s %-23.23s %-20s %s", evt.field(f["evt.datetime"]),
			evt.field(f["proc.name"]), lat, evt.field(f["evt.type"])))
	end
end
