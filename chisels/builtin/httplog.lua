-- gosysdig's own httplog chisel: one line per HTTP request and its response, as sysdig's httplog
-- prints it.
description = "Show a log of all HTTP requests"
short_description = "HTTP requests log"
category = "Application"
args = {}

local http = require("gs_common").http_parser()
local show_container = false

function on_init()
	http.init()
	show_container = sysdig.is_print_container_data()
	return true
end

local function log(tr)
	local sep = " "
	if show_container then
		sep = " " .. tr.container .. " "
	end
	print(string.format("%s%s%s method=%s url=%s response_code=%d latency=%dms size=%dB", http.field("evt.datetime"),
		sep, tr.dir, tr.request.method, tr.request.url, tr.response.code,
		(tr.response.ts - tr.request.ts) / 1e6, tr.response.length))
end

function on_event()
	http.event(log)
end
