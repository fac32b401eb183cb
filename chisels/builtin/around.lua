-- gosysdig's own around chisel: lists the events that match the command line filter, then has
-- sysdig write to a file the events of the same threads within a time range around each of them.
description = "Given a filter on the command line, this chisel saves the events that are in a time range around filter matches, and that are on the SAME process/thread. The time range can be adjusted with the dump_range_ms argument. For example, 'sysdig -c around evt.type=open and evt.failed=true' will save two seconds of activity around every failed open."
short_description = "Export to file the events around the time range where the given filter matches."
category = "Misc"

args = {
	{name = "dump_file_name", description = "The name of the file where the chisel will write the events related to each syslog entry.", argtype = "string", optional = false},
	{name = "dump_range_ms", description = "The time interval to capture *before* and *after* each event, in milliseconds. For example, 500 means that 1 second around each displayed event (.5s before and .5s after) will be saved to <dump_file_name>. The default value for dump_range_ms is 1000.", argtype = "int", optional = true},
}

local out_file
local range_ms = "1000"
local tty = false
local running = false
local f = {}
local hits = {} -- {ts seconds, ts nanoseconds, tid}

function on_set_arg(name, val)
	if name == "dump_file_name" then
		out_file = val
	elseif name == "dump_range_ms" then
		range_ms = val
	else
		return false
	end
	return true
end

function on_init()
	f.name = chisel.request_field("proc.name")
	f.tid = chisel.request_field("thread.tid")
	f.time = chisel.request_field("evt.time")
	tty = sysdig.is_tty()
	if sysdig.get_filter() == "" then
		print("no filter specified")
		return false
	end
	return true
end

function on_capture_start()
	if sysdig.is_live() then
		print("live capture not supported")
		return false
	end
	running = true
	return true
end

function on_event()
	local tid = evt.field(f.tid)
	print(evt.field(f.time) .. " " .. (evt.field(f.name) or "<NA>") .. "(" .. tid .. ")")
	local s, ns = evt.get_ts()
	hits[#hits + 1] = {s, ns, tid}
	return true
end

function on_capture_end()
	if tty then
		print("\027[0m")
	end
	if not running then
		return
	end
	local terms = {}
	for i, h in ipairs(hits) do
		terms[i] = string.format("(evt.around[%u%.9u]=%s and thread.tid=%s)", h[1], h[2], range_ms, h[3])
	end
	print("\nSaving events around " .. #hits .. " syslog entries to " .. out_file)
	sysdig.run_app("-F -r" .. sysdig.get_evtsource_name() .. " -w" .. out_file .. " " .. table.concat(terms, " or "))
end
