-- gosysdig's own spy_file chisel: the data every read or write on files carries (or on one file),
-- as sysdig's spy_file prints it.
description = "This chisel intercepts all reads and writes to all files. Instead of all files, you can limit interception to one file."
short_description = "Echo any read/write made by any process to all files. Optionally, you can provide the name of one file to only intercept reads/writes to that file."
category = "I/O"

args = {
	{name = "read_or_write", description = "Specify 'R' to capture only read events; 'W' to capture only write events; 'RW' to capture read and write events. By default both read and write events are captured.", argtype = "string", optional = true},
	{name = "spy_on_file_name", description = "The name of the file which the chisel should spy on for all read and write activity.", argtype = "string", optional = true},
}

local G = require("gs_common")
local mode, file
local f = {}

function on_set_arg(name, val)
	if name == "read_or_write" then
		mode = val
	elseif name == "spy_on_file_name" then
		file = val
	else
		return false
	end
	return true
end

function on_init()
	for _, n in ipairs({"evt.arg.data", "fd.name", "evt.is_io_write", "proc.pid", "proc.name", "evt.rawarg.res", "evt.time"}) do
		f[n] = chisel.request_field(n)
	end
	sysdig.set_snaplen(2000)
	sysdig.set_output_format("ascii")
	local parts = {}
	if file ~= nil and file ~= "" then
		parts[1] = "(fd.name=" .. file .. ")"
	else
		-- leave terminals alone: echoing them would feed a live capture its own output
		parts[1] = "(not fd.name contains /dev/pt and not fd.name contains /dev/tty)"
	end
	if mode == "R" or mode == "r" then
		parts[2] = "evt.is_io_read=true"
	elseif mode == "W" or mode == "w" then
		parts[2] = "evt.is_io_write=true"
	else
		parts[2] = "evt.is_io=true"
	end
	parts[3] = "fd.type=file and evt.dir=< and evt.failed=false"
	chisel.set_filter(table.concat(parts, " and "))
	return true
end

function on_event()
	local rw = "R"
	if evt.field(f["evt.is_io_write"]) == true then
		rw = "W"
	end
	print(string.format("%s %s(%s) %s %s %s %s", evt.field(f["evt.time"]), evt.field(f["proc.name"]),
		evt.field(f["proc.pid"]), rw, G.bytes(evt.field(f["evt.rawarg.res"])), evt.field(f["fd.name"]),
		evt.field(f["evt.arg.data"])))
	return true
end
