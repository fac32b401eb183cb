-- gosysdig's own echo_fds chisel: a header line per read or write, then the data.
description = "Print the data read and written for any FD. Combine this script with a filter to restrict what it shows. (Blue represents [Write], and Red represents [Read].)"
short_description = "Print the data read and written by processes."
category = "I/O"

args = {
	{
		name = "disable_color",
		description = "Set to 'disable_colors' if you want to disable color output",
		argtype = "string",
		optional = true
	},
}

local gs = require("gs_common")
local ESC = string.char(27)
local red, blue, reset = ESC .. "[31m", ESC .. "[34m", ESC .. "[0m"
local green, cyan = ESC .. "[32m", ESC .. "[36m"
local fres, fread, fname, fproc, fcname, fcid
local print_container = false

function on_set_arg(name, val)
	if name == "disable_color" and val == "disable_color" then
		red, blue, reset, green, cyan = "", "", "", "", ""
	end
	return true
end

function on_init()
	fres = chisel.request_field("evt.rawarg.res")
	fread = chisel.request_field("evt.is_io_read")
	fname = chisel.request_field("fd.name")
	fproc = chisel.request_field("proc.name")
	fcname = chisel.request_field("container.name")
	fcid = chisel.request_field("container.id")
	-- sysdig -pc: the container (host in green, containers in cyan) after "from"/"to"
	print_container = sysdig.is_print_container_data()
	sysdig.set_snaplen(2000)
	chisel.set_filter("evt.is_io=true and evt.dir=< and evt.rawres>0")
	chisel.set_event_formatter("%evt.arg.data")
	return true
end

function on_event()
	local n = evt.field(fres)
	if n <= 0 then
		return true
	end
	local name = evt.field(fname) or "<NA>"
	local proc = evt.field(fproc)
	local container = ""
	if print_container then
		local cname = evt.field(fcname)
		local color = cyan
		if cname == "host" then
			color = green
		end
		container = string.format("%s [%s] [%s]", color, tostring(cname), tostring(evt.field(fcid)))
	end
	if evt.field(fread) then
		print(string.format("%s------ Read %s from %s %s %s (%s)", red, gs.bytes(n), container, red, name, proc))
	else
		print(string.format("%s------ Write %s to %s %s %s (%s)", blue, gs.bytes(n), container, blue, name, proc))
	end
	return true
end

function on_capture_end()
	print(reset)
end
