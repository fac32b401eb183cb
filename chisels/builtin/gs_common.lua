-- Helpers shared by gosysdig's own chisels (not a chisel: it declares no description).
local M = {}

-- pad extends s with spaces to n characters, or cuts it to n-1 characters and a space.
function M.pad(s, n)
	if #s < n then
		return s .. string.rep(" ", n - #s)
	end
	if n > 0 then
		return string.sub(s, 1, n - 1) .. " "
	end
	return ""
end

-- bytes renders a byte count as sysdig's chisels do: 1.23KB, 4.00M, 12B.
function M.bytes(v)
	local K, M1, G, T, P = 1024, 1024 ^ 2, 1024 ^ 3, 1024 ^ 4, 1024 ^ 5
	if v > P then return string.format("%.2fP", v / P)
	elseif v > T then return string.format("%.2fT", v / T)
	elseif v > G then return string.format("%.2fG", v / G)
	elseif v > M1 then return string.format("%.2fM", v / M1)
	elseif v > K then return string.format("%.2fKB", v / K)
	end
	return string.format("%dB", v)
end

-- duration renders nanoseconds as sysdig's chisels do: 1.10s, 15ms, 2.50ms, 40us, 1.20us, 800ns.
function M.duration(v)
	if v >= 1e9 then
		return string.format("%u.%02us", math.floor(v / 1e9), (v % 1e9) / 1e7)
	elseif v >= 1e7 then
		return string.format("%ums", math.floor(v / 1e6))
	elseif v >= 1e6 then
		return string.format("%u.%02ums", math.floor(v / 1e6), (v % 1e6) / 1e4)
	elseif v >= 1e4 then
		return string.format("%uus", math.floor(v / 1e3))
	elseif v >= 1e3 then
		return string.format("%u.%02uus", math.floor(v / 1e3), (v % 1e3) / 10)
	end
	return string.format("%uns", v)
end

-- sorted_keys returns t's keys ordered by before(t, a, b), at most n of them (0: all).
function M.sorted_keys(t, n, before)
	local keys = {}
	for k in pairs(t) do keys[#keys + 1] = k end
	table.sort(keys, function(a, b) return before(t, a, b) end)
	if n > 0 and #keys > n then
		for i = #keys, n + 1, -1 do keys[i] = nil end
	end
	return keys
end

-- value_text renders a table value in the given units; delta is the capture's duration (timepct).
function M.value_text(v, units, delta)
	if units == "bytes" then
		return M.bytes(v)
	elseif units == "time" then
		return M.duration(v)
	elseif units == "timepct" then
		if delta > 0 then
			return string.format("%.2f%%", v / delta * 100)
		end
		return "0.00%"
	end
	return tostring(v)
end

local SEP = "\001\001"

-- split cuts a composite key into its fields.
function M.split_key(k)
	local out = {}
	local start = 1
	while true do
		local i = string.find(k, SEP, start, true)
		if i == nil then
			out[#out + 1] = string.sub(k, start)
			return out
		end
		out[#out + 1] = string.sub(k, start, i - 1)
		start = i + #SEP
	end
end

-- json_string quotes s as JSON.
function M.json_string(s)
	s = string.gsub(s, '[%c"\\]', function(c)
		if c == '"' then return '\\"' elseif c == "\\" then return "\\\\" end
		return string.format("\\u%04x", string.byte(c))
	end)
	return '"' .. s .. '"'
end

-- print_top_json prints the table as sysdig's top chisels do with -j: {info, ts, data}, data
-- holding [key fields..., value] rows, largest values first.
function M.print_top_json(t, spec, ts_s, ts_ns)
	local J = M.json_string
	local info = {}
	for i, name in ipairs(spec.keys) do
		info[#info + 1] = '{\n      "is_key":true,\n      "name":' .. J(name) .. ',\n      "desc":' .. J(spec.key_descs[i]) .. '\n    }'
	end
	if #spec.keys == 1 then
		info[#info + 1] = "null" -- sysdig puts the value column third even with one key
	end
	info[#info + 1] = '{\n      "is_key":false,\n      "name":' .. J(spec.value_name or spec.value) .. ',\n      "desc":' .. J(spec.value_desc) .. '\n    }'
	local rows = {}
	for _, k in ipairs(M.sorted_keys(t, spec.top, function(tt, a, b) return tt[a] > tt[b] end)) do
		local cells = {}
		for _, p in ipairs(M.split_key(k)) do
			cells[#cells + 1] = J(p)
		end
		cells[#cells + 1] = tostring(t[k])
		rows[#rows + 1] = "[" .. table.concat(cells, ",") .. "]"
	end
	print("{\n  \"info\":[" .. table.concat(info, ",") .. "],\n  \"ts\":" ..
		J(sysdig.make_ts(ts_s, ts_ns)) .. ",\n  \"data\":[" .. table.concat(rows, ",") .. "]\n}")
end

-- print_top prints a key -> value table as sysdig's top chisels do: the value column, then one
-- column per key field (all but the last cut to 20 characters), largest values first.
function M.print_top(t, spec, delta)
	local W = 20
	local line = M.pad(spec.value_desc, W)
	for _, d in ipairs(spec.key_descs) do
		line = line .. M.pad(d, W)
	end
	print(line)
	print(string.rep("-", 80))
	local keys = M.sorted_keys(t, spec.top, function(tt, a, b) return tt[a] > tt[b] end)
	for _, k in ipairs(keys) do
		local parts = M.split_key(k)
		local row = M.pad(M.value_text(t[k], spec.units, delta), W)
		for i, p in ipairs(parts) do
			if i < #parts then
				row = row .. M.pad(string.sub(p, 1, W), W)
			else
				row = row .. p
			end
		end
		print(row)
	end
end

-- top installs the callbacks of a chisel that sums a value per key and prints the largest sums
-- at the end of the capture (and every second when live). spec: keys (field names), key_descs,
-- value (a field), value_desc, filter, top (0: all), units (none, bytes, time, timepct), scale
-- (multiplies the value).
function M.top(spec)
	local sums = {}
	local fkeys = {}
	local fval
	local live = false
	local in_go = false -- sums kept by chisel.aggregate

	function on_init()
		if spec.pc_keys ~= nil and sysdig.is_print_container_data() then
			spec.keys, spec.key_descs = spec.pc_keys, spec.pc_key_descs
		end
		for i, name in ipairs(spec.keys) do
			fkeys[i] = chisel.request_field(name)
		end
		fval = chisel.request_field(spec.value)
		if spec.filter ~= nil and spec.filter ~= "" then
			chisel.set_filter(spec.filter)
		end
		-- the on_event below, run in Go for every event (gosysdig's runtime)
		if chisel.aggregate ~= nil then
			chisel.aggregate(fkeys, fval, spec.scale, SEP)
			in_go = true
		end
		return true
	end

	function on_capture_start()
		live = sysdig.is_live()
		if live then
			chisel.set_interval_s(1)
		end
		return true
	end

	function on_event()
		local key
		for i, f in ipairs(fkeys) do
			local v = evt.field(f)
			if v == nil then
				return true
			end
			if i == 1 then
				key = tostring(v)
			else
				key = key .. SEP .. tostring(v)
			end
		end
		local v = evt.field(fval)
		if v == nil then
			return true
		end
		if spec.scale ~= nil then
			v = v * spec.scale
		elseif v <= 0 then
			return true
		end
		sums[key] = (sums[key] or 0) + v
		return true
	end

	function on_interval(ts_s, ts_ns, delta)
		if in_go then
			sums = chisel.aggregate_take()
		end
		if sysdig.get_output_format() == "json" then
			M.print_top_json(sums, spec, ts_s, 0)
		else
			M.print_top(sums, spec, delta)
		end
		sums = {}
		return true
	end

	function on_capture_end(ts_s, ts_ns, delta)
		if live then
			return true
		end
		if in_go then
			sums = chisel.aggregate_take()
		end
		if sysdig.get_output_format() == "json" then
			M.print_top_json(sums, spec, ts_s, 0)
		else
			M.print_top(sums, spec, delta)
		end
		return true
	end
end

-- top_by is top() for the *_by chisels: the key fields (comma-separated) come as an argument.
function M.top_by(spec)
	function on_set_arg(name, val)
		if name == "key" then
			spec.keys = {}
			for k in string.gmatch(val, "[^,]+") do
				spec.keys[#spec.keys + 1] = k
			end
			spec.key_descs = spec.keys
			return true
		end
		return false
	end
	M.top(spec)
end

-- io_totals installs the callbacks of the iobytes chisels: bytes read and written by the events
-- that pass filter, printed and reset every second of capture time.
function M.io_totals(filter)
	local fbytes, ftime, fread
	local tin, tout = 0, 0

	function on_init()
		fbytes = chisel.request_field("evt.rawarg.res")
		ftime = chisel.request_field("evt.time.s")
		fread = chisel.request_field("evt.is_io_read")
		chisel.set_filter(filter)
		chisel.set_interval_s(1)
		return true
	end

	function on_event()
		local n = evt.field(fbytes)
		if n ~= nil and n > 0 then
			if evt.field(fread) then
				tin = tin + n
			else
				tout = tout + n
			end
		end
		return true
	end

	function on_interval()
		print(evt.field(ftime) .. " in:" .. tin .. " out:" .. tout .. " tot:" .. (tin + tout))
		tin, tout = 0, 0
		return true
	end
end

-- fd_data installs the callbacks of the stdin/stdout/stderr chisels: the data of the I/O events
-- on fd n, as is.
function M.fd_data(n)
	local fbuf

	function on_init()
		fbuf = chisel.request_field("evt.rawarg.data")
		sysdig.set_snaplen(2000)
		chisel.set_filter("fd.num=" .. n .. " and evt.is_io=true")
		return true
	end

	function on_event()
		local data = evt.field(fbuf)
		if data ~= nil then
			print(data)
		end
		return true
	end
end

-- state_snapshot installs the callbacks of a chisel that stops at the first event that passes
-- the filters and prints the system state then, with show(filter).
function M.state_snapshot(default_filter, show)
	local filter = default_filter
	local matched = false
	local started = false

	function on_set_arg(name, val)
		if name == "filter" then
			if default_filter ~= nil then
				filter = default_filter .. " and (" .. val .. ")"
			else
				filter = val
			end
			return true
		end
		return false
	end

	function on_capture_start()
		started = true
		return true
	end

	function on_event()
		matched = true
		sysdig.end_capture()
		return false
	end

	function on_capture_end()
		if not started then
			return
		end
		if not matched then
			print("empty capture or no event matching the filter")
			return
		end
		show(filter)
	end
end

-- by_tid returns a thread table's tids in ascending order.
function M.by_tid(ttable)
	local tids = {}
	for tid in pairs(ttable) do tids[#tids + 1] = tid end
	table.sort(tids)
	return tids
end

-- ansi returns the escape sequences sysdig's chisels colour their lines with, or empty strings
-- when colours are off.
function M.ansi(on)
	local codes = {reset = 0, red = 31, green = 32, yellow = 33, blue = 34}
	local t = {}
	for name, code in pairs(codes) do
		if on then
			t[name] = "\027[" .. code .. "m"
		else
			t[name] = ""
		end
	end
	return t
end

-- number_arg converts a chisel argument to a number; like sysdig's chisels, it reports a value
-- that is not one and leaves.
function M.number_arg(val, name)
	local n = tonumber(val)
	if n == nil then
		print("Input " .. name .. " must be a number.")
		os.exit()
	end
	return n
end

-- net_payloads installs the callbacks of spy_ip and spy_port: the data of the network I/O events
-- on the endpoint the argument names (filter_field=value), each under a header that repeats the
-- last direction change's ("------ Read 10B", red; writes blue, labelled write_label).
function M.net_payloads(arg_name, filter_field, write_label)
	local col = M.ansi(true)
	local value
	local fdata, fread, fres
	local last_dir, header

	function on_set_arg(name, val)
		if name == arg_name then
			value = val
			return true
		elseif name == "disable_color" then
			if val == "disable_colors" then
				col = M.ansi(false)
			end
			return true
		end
		return false
	end

	function on_init()
		fdata = chisel.request_field("evt.arg.data")
		fread = chisel.request_field("evt.is_io_read")
		fres = chisel.request_field("evt.rawarg.res")
		sysdig.set_snaplen(1000)
		chisel.set_filter("evt.is_io=true and (fd.type=ipv4 or fd.type=ipv6) and " .. filter_field .. "=" .. value)
		return true
	end

	function on_event()
		local n = evt.field(fres)
		if n == nil or n <= 0 then
			return true
		end
		local data = evt.field(fdata)
		if data == nil then
			return true
		end
		local dir = "write"
		if evt.field(fread) then
			dir = "read"
		end
		if dir ~= last_dir then
			if dir == "read" then
				header = col.red .. "------ Read " .. M.bytes(n)
			else
				header = col.blue .. "------ " .. write_label .. " " .. M.bytes(n)
			end
			last_dir = dir
		end
		print(header)
		print(data)
		return true
	end

	function on_capture_end()
		print(col.reset)
	end
end

-- slow_io installs the callbacks of fileslower and netlower: the I/O events that pass filter and
-- took longer than the min_ms argument to return (skipping files under /dev/ when skip_dev),
-- one coloured line each: green, blue in a container.
function M.slow_io(filter, skip_dev)
	local col = M.ansi(true)
	local min_ms
	local f = {}
	local show_container = false

	function on_set_arg(name, val)
		if name == "disable_color" and val == "disable_color" then
			col = M.ansi(false)
		elseif name == "min_ms" then
			min_ms = M.number_arg(val, name)
		end
		return true
	end

	local function row(c)
		if show_container then
			return string.format("%-23.23s %-20.20s %-20.20s %-12.12s %-8s " .. c.latfmt .. " %s", c.time, c.cid, c.cname, c.proc, c.type, c.lat, c.name)
		end
		return string.format("%-23.23s %-12.12s %-8s " .. c.latfmt .. " %s", c.time, c.proc, c.type, c.lat, c.name)
	end

	function on_init()
		for _, n in ipairs({"evt.type", "evt.dir", "evt.datetime", "fd.name", "proc.name", "evt.latency", "container.name", "container.id"}) do
			f[n] = chisel.request_field(n)
		end
		show_container = sysdig.is_print_container_data()
		chisel.set_filter(filter)
		print(row{latfmt = "%-12s", time = "evt.datetime", cid = "container.id", cname = "container.name", proc = "proc.name",
			type = "evt.type", lat = "LATENCY(ms)", name = "fd.name"})
		local d = string.rep("-", 30)
		print(row{latfmt = "%-12s", time = string.rep("-", 23), cid = d, cname = d, proc = string.rep("-", 12),
			type = string.rep("-", 8), lat = string.rep("-", 12), name = string.rep("-", 41)})
		return true
	end

	function on_event()
		local lat = evt.field(f["evt.latency"]) / 1e6
		local name = evt.field(f["fd.name"])
		if evt.field(f["evt.dir"]) ~= "<" or not (lat > min_ms) then
			return true
		end
		if skip_dev and string.sub(name, 1, 5) == "/dev/" then
			return true
		end
		local color = col.green
		local cname = evt.field(f["container.name"])
		if cname ~= "host" then
			color = col.blue
		end
		print(color .. row{latfmt = "%12d", time = evt.field(f["evt.datetime"]), cid = evt.field(f["container.id"]),
			cname = cname, proc = evt.field(f["proc.name"]), type = evt.field(f["evt.type"]), lat = lat, name = name})
		return true
	end
end

-- http_parser returns the state of an HTTP request/response matcher: init() sets the chisel's
-- filter and fields, event(on_transaction) feeds it the current event. A request is a buffer that
-- starts with an uppercase method and a URL (prefixed by its Host header); the next buffer on the
-- same process and fd that holds a status line answers it.
function M.http_parser()
	-- [%w%p] is Lua 5.2's %g (printable, not space), which Lua 5.1 patterns lack
	local G = "[%w%p]"
	local p = {f = {}, pending = {}}

	function p.init()
		chisel.set_filter("evt.is_io = true and evt.buflen > 0 and (fd.sockfamily = ip or fd.sockfamily = unix)")
		for _, n in ipairs({"evt.buffer", "fd.num", "proc.pid", "evt.rawtime", "evt.datetime", "evt.io_dir", "container.name"}) do
			p.f[n] = chisel.request_field(n)
		end
		sysdig.set_snaplen(1024)
	end

	function p.field(name)
		return evt.field(p.f[name])
	end

	function p.event(on_transaction)
		local buf = p.field("evt.buffer")
		local key = string.format("%d\001\001%d", p.field("proc.pid"), p.field("fd.num"))
		local ts = p.field("evt.rawtime")
		local tr = p.pending[key]
		if tr == nil then
			local method, url = string.match(buf, "^(%u+) (" .. G .. "+)")
			if method == nil or url == nil then
				return
			end
			local host = string.match(buf, "Host: (" .. G .. "+)%.%.")
			if host then
				url = host .. url
			end
			local io = p.field("evt.io_dir")
			local dir = "<NA>"
			if io == "read" then
				dir = "<"
			elseif io == "write" then
				dir = ">"
			end
			p.pending[key] = {request = {method = method, url = url, ts = ts}, dir = dir, container = p.field("container.name")}
			return
		end
		local code = string.match(buf, "HTTP/" .. G .. "+ (%d+)")
		if code == nil then
			return
		end
		local len = string.match(buf, "Content%-Length: (%d+)%.%.") or 0
		tr.response = {code = tonumber(code), length = tonumber(len), ts = ts}
		on_transaction(tr)
		p.pending[key] = nil
	end

	return p
end

return M
