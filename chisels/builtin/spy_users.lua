-- gosysdig's own spy_users chisel: the commands launched from shells, and the folders shells move
-- to, each indented by its depth below the login shell; prints what sysdig's spy_users prints.
description = "Lists every command that users launch interactively (e.g. from bash) and every directory users visit. This chisel is compatible with containers using the sysdig -pc or -pcontainer argument, otherwise no container information will be shown. (Blue represents a process running within a container, and Green represents a host process)"
short_description = "Display interactive user activity"
category = "Security"

args = {
	{name = "max_depth", description = "the maximum depth to show in the hierarchy of processes", argtype = "int", optional = true},
	{name = "disable_color", description = "Set to 'disable_colors' if you want to disable color output", argtype = "string", optional = true},
}

local G = require("gs_common")
local col = G.ansi(true)
local depth_limit = -1
local ANCESTORS = 16

local f = {}
local show_container = false
-- shells[pid] = {depth below the shell, pid of the shell}; depth -1: no shell above it.
local shells = {}
-- Every chdir seen moves the ancestor lookups one generation down (the process itself first).
local shift = 0

function on_set_arg(name, val)
	if name == "max_depth" then
		depth_limit = G.number_arg(val, name)
	elseif name == "disable_color" and val == "disable_color" then
		col = G.ansi(false)
	end
	return true
end

function on_init()
	for _, n in ipairs({"evt.type", "proc.exe", "proc.args", "evt.arg.path", "user.name", "evt.time.s",
		"proc.pid", "proc.ppid", "container.name", "container.id"}) do
		f[n] = chisel.request_field(n)
	end
	f.aname, f.apid = {}, {}
	for i = 0, ANCESTORS do
		f.aname[i] = chisel.request_field("proc.aname[" .. i .. "]")
		f.apid[i] = chisel.request_field("proc.apid[" .. i .. "]")
	end
	show_container = sysdig.is_print_container_data()
	chisel.set_filter("((evt.type=execve and evt.dir=<) or (evt.type=chdir and evt.dir=< and proc.name contains sh and not proc.name contains sshd)) and evt.failed=false")
	return true
end

-- ancestor returns the name and pid fields of the i-th ancestor after the chdir shifts.
local function ancestor(i)
	local k = i - shift
	if k < 0 then
		-- sysdig's chisel asks evt.field for the 0 it shifted in: sysdig 0.29.3 returns nil for a
		-- value that is no field, so the lookup ends there as if no shell were above
		return nil, nil
	end
	return evt.field(f.aname[k]), evt.field(f.apid[k])
end

-- find_shell records where parent sits below its closest login shell ancestor.
local function find_shell(parent)
	shells[parent] = {-1}
	for i = 1, ANCESTORS do
		local name, apid = ancestor(i)
		if name == nil then
			if apid == nil then
				return
			end
		elseif #name >= 2 and string.sub(name, -2) == "sh" then
			if shells[apid] then
				shells[parent] = {i - 1, apid}
			else
				shells[parent] = {0, apid}
			end
		end
	end
end

function on_event()
	local pid = evt.field(f["proc.pid"])
	local parent = evt.field(f["proc.ppid"])
	local user = evt.field(f["user.name"]) or "<NA>"
	local cname = evt.field(f["container.name"])
	local is_cd = evt.field(f["evt.type"]) == "chdir"
	local base = 1
	if is_cd then
		parent = pid
		shift = shift + 1
		base = 0
	end
	if not shells[parent] then
		find_shell(parent)
	end
	if shells[parent][1] == -1 then
		return true
	end
	if not shells[pid] then
		shells[pid] = {shells[parent][1] + 1, shells[parent][2]}
	end
	local level = shells[pid][1] - base
	if depth_limit ~= -1 and level > depth_limit then
		return true
	end
	local color = ""
	local who = user
	if show_container then
		color = col.green
		if cname ~= "host" then
			color = col.blue
		end
		who = user .. "@" .. cname
	end
	local head = shells[pid][2] .. " " .. evt.field(f["evt.time.s"]) .. " " .. who .. ") "
	if is_cd then
		print(color .. G.pad("", 4 * level) .. head .. "cd " .. evt.field(f["evt.arg.path"]))
	else
		local step = 3
		if show_container then
			step = 4
		end
		print(color .. G.pad("", step * level) .. head .. evt.field(f["proc.exe"]) .. " " .. evt.field(f["proc.args"]))
	end
	return true
end

function on_capture_end()
	print(col.reset)
end
