-- gosysdig's own spectrogram chisel: every refresh period, one terminal line whose columns are
-- system call latencies on a log scale (1ns to 100s), each cell coloured by how many calls
-- returned with that latency; as sysdig's spectrogram draws it.
description = "This console visualization shows the frequency of system call latencies. The Y axis unit is time. By default, a new line is created twice a second, but that can be changed by specifying a different refresh time argument. The X axis shows a range of latencies. Each latency value has a color that can be black (no calls), green (tens of calls/s), yellow (hundreds of calls/s) or red (Thousands of calls/s). In other words, red areas mean that there are many system calls taking the specified time to return. Use this chisel in conjunction with filters to visualize latencies for certain processes, types of I/O activity, file systems, etc."
short_description = "Visualize OS latency in real time."
category = "CPU Usage"

args = {
	{name = "refresh_time", description = "Chart refresh time in milliseconds", argtype = "int", optional = true},
}

local G = require("gs_common")
local ESC = "\027["
local DECADES = 11 -- the axis spans 10^0 to 10^11 ns
local period = 500000000
local per_sec = 1e9 / period
-- 256-colour palette from dark green to red, and the shades that render a fraction of a step
local PALETTE = {22, 28, 64, 34, 2, 76, 46, 118, 154, 191, 227, 226, 11, 220, 209, 208, 202, 197, 9, 1}
local SHADES = {" ", "░", "▒", "░"}
local tty = false
local width = 0
local flat
local counts = {}

function on_set_arg(name, val)
	if name ~= "refresh_time" then
		return false
	end
	period = G.number_arg(val, name) * 1000000
	per_sec = 1e9 / period
	return true
end

function on_init()
	tty = sysdig.is_tty()
	if not tty then
		print("This chisel only works on ANSI terminals. Aborting.")
		return false
	end
	width = sysdig.get_terminal_info().width
	chisel.set_filter("evt.dir=<")
	flat = chisel.request_field("evt.latency")
	io.write(ESC .. "?25l")
	return true
end

function on_capture_start()
	chisel.set_interval_ns(period)
	return true
end

function on_event()
	local lat = evt.field(flat)
	if lat == 0 then
		return true
	end
	local l = math.min(math.log10(lat), DECADES)
	local x = math.floor(l * width / DECADES) + 1
	counts[x] = (counts[x] or 0) + 1
	return true
end

-- cell returns the foreground and background colours and the shade for n calls in a period.
local function cell(n)
	local c = math.log10(n * per_sec + 1) / math.log10(1.6)
	c = math.max(1, math.min(c, #PALETTE))
	local lo, hi = math.floor(c), math.ceil(c)
	local frac = c - lo
	local shade = SHADES[math.floor(1 + frac * #SHADES)]
	if frac > .75 then
		-- a 25% shade with the colours swapped looks 75% full
		return PALETTE[hi], PALETTE[lo], shade
	end
	return PALETTE[lo], PALETTE[hi], shade
end

local function colours(fg, bg)
	io.write(ESC .. "38;5;" .. fg .. "m")
	io.write(ESC .. "48;5;" .. bg .. "m")
end

function on_interval(ts_s, ts_ns, delta)
	io.write(ESC .. "1F")
	for x = 1, width do
		local n = counts[x]
		if n == nil or n == 0 then
			colours(0, 0)
			io.write(" ")
		else
			local fg, bg, shade = cell(n)
			colours(fg, bg)
			io.write(shade)
		end
	end
	io.write(ESC .. "0m\n")
	-- the axis: each decade's label where its first column starts
	local x = 0
	while x < width do
		if math.floor(x * DECADES / width) ~= math.floor((x - 1) * DECADES / width) then
			local label = G.duration(10 ^ math.floor(x * DECADES / width))
			io.write("|" .. label)
			x = x + #label + 1
		else
			io.write(" ")
			x = x + 1
		end
	end
	io.write("\n")
	counts = {}
	return true
end

function on_capture_end(ts_s, ts_ns, delta)
	if tty then
		on_interval(ts_s, ts_ns, 0)
		print(ESC .. "0m")
		io.write(ESC .. "?25h")
	end
	return true
end
