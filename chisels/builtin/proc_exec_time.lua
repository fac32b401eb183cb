-- gosysdig's own proc_exec_time chisel: each process that exits, with how long it ran, coloured by
-- that time, as sysdig's proc_exec_time prints it.
description = "List the processes that have finished running, along with their execution time, and color every line based on the total process run time (Green|Blue below thresholds, Yellow at 3 sec, and Red at 10 sec). This chisel is compatible with containers using the sysdig -pc or -pcontainer argument, otherwise no container information will be shown. (Blue represents a process running within a container, and Green represents a host process)"
short_description = "Show process execution time"
category = "Performance"

args = {
	{name = "disable_color", description = "Set to 'disable_colors' if you want to disable color output", argtype = "string", optional = true},
}

local G = require("gs_common")
local col = G.ansi(true)
local YELLOW_NS, RED_NS = 3e9, 10e9
local f = {}
local show_container = false

function on_set_arg(name, val)
	if val == "disable_colors" then
		col = G.ansi(false)
	end
	return true
end

local function row(cells)
	if show_container then
		return string.format("%-13.13s %-20.20s %-20.20s %-12.12s %s", cells[1], cells[2], cells[3], cells[4], cells[5])
	end
	return string.format("%-13.13s %-12.12s %s", cells[1], cells[4], cells[5])
end

function on_init()
	for _, n in ipairs({"proc.name", "proc.args", "proc.duration", "container.name", "container.id"}) do
		f[n] = chisel.request_field(n)
	end
	show_container = sysdig.is_print_container_data()
	chisel.set_filter("evt.type=procexit")
	print(row({"proc.duration", "container.id", "container.name", "proc.name", "proc.args"}))
	print(row({string.rep("-", 13), string.rep("-", 20), string.rep("-", 20), string.rep("-", 12), string.rep("-", 20)}))
	return true
end

function on_event()
	local d = evt.field(f["proc.duration"])
	if d == nil then
		return true
	end
	local color = col.green
	if d > RED_NS then
		color = col.red
	elseif d > YELLOW_NS then
		color = col.yellow
	elseif evt.field(f["container.name"]) ~= "host" then
		color = col.blue
	end
	print(color .. row({G.duration(d), evt.field(f["container.id"]), evt.field(f["container.name"]),
		evt.field(f["proc.name"]), evt.field(f["proc.args"])}))
	return true
end

function on_capture_end()
	print(col.reset)
end
