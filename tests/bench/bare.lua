-- bare.lua — wrk script for the baseline: the same requests as
-- hold_random.lua (method, path shape, headers, one-seat JSON body) sent to
-- tests/bench/bare_mhd, which reads the body and answers 201 without doing
-- any work. Same environment as hold_random.lua; EVENT and TOKEN default to
-- placeholders because bare_mhd looks at neither.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")
SCENARIO = "bare"

local event = common.env("EVENT", "bare")
local sections = tonumber(common.env("SECTIONS", "50"))
local rows = tonumber(common.env("ROWS", "40"))
local seats = tonumber(common.env("SEATS", "50"))
local fmt = common.env("SECTION_FORMAT", "S%02d")
local path = "/api/v1/events/" .. event .. "/holds"

wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer " .. common.env("TOKEN", "bare")
wrk.headers["Content-Type"] = "application/json"

setup = common.setup
response = common.response
done = common.done

local next_seat
function init(args)
    next_seat = common.seat_maker(sections, rows, seats, function(s)
        return string.format(fmt, s)
    end)
end

function request()
    return wrk.format(nil, path, nil, '{"seats":["' .. next_seat() .. '"]}')
end
