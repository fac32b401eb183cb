-- gosysdig's own list_login_shells chisel: the login shell of the last command run (optionally one
-- whose name or arguments contain a pattern), printed as sysdig's list_login_shells prints it:
-- once per field it knows of it (shell id, container name, container id).
description = "List the IDs of the login sessions. Optionally, the list can be filtered to include only the sessions that contain a specific command. The session IDs listed by this chisel can be used as filters for the spy_users chisel. This chisel is compatible with containers using the sysdig -pc or -pcontainer argument, otherwise no container information will be shown."
short_description = "List the login shell IDs"
category = "Security"

args = {
	{name = "command", description = "If this parameter is specified, only the login shells that contain commands including the given string in their name will be listed. * will match any command name.", argtype = "string", optional = true},
	{name = "arguments", description = "If this parameter is specified, only the login shells that contain commands including the given string in their arguments will be listed", argtype = "string", optional = true},
}

local want_cmd, want_args
local f = {}
local last = {}
local show_container = false

function on_set_arg(name, val)
	if name == "command" and val ~= "*" then
		want_cmd = val
	elseif name == "arguments" then
		want_args = val
	end
	return true
end

function on_init()
	for _, n in ipairs({"proc.loginshellid", "evt.arg.exe", "evt.arg.args", "container.name", "container.id"}) do
		f[n] = chisel.request_field(n)
	end
	show_container = sysdig.is_print_container_data()
	chisel.set_filter("evt.type=execve")
	return true
end

function on_event()
	local sid = evt.field(f["proc.loginshellid"])
	local exe = evt.field(f["evt.arg.exe"])
	if not sid or not exe then
		return true
	end
	local a = evt.field(f["evt.arg.args"])
	if want_cmd and not string.find(exe, want_cmd) then
		return true
	end
	if want_args and a and not string.find(a, want_args) then
		return true
	end
	last = {sid, evt.field(f["container.name"]), evt.field(f["container.id"])}
	return true
end

function on_capture_end()
	if want_cmd then
		print("Shells containing " .. want_cmd .. ":")
	else
		print("All shells:")
	end
	for i = 1, 3 do
		if last[i] ~= nil then
			if show_container then
				print(last[1] .. " " .. last[2] .. " " .. last[3])
			else
				print(last[1])
			end
		end
	end
end
