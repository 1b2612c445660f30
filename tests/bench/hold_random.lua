-- hold_random.lua — wrk script: POST /api/v1/events/<EVENT>/holds, one seat
-- per hold, seats spread pseudo-randomly over SECTIONS sections (keys
-- S00, S01, ...) of ROWS rows x SEATS seats, never repeating within
-- SECTIONS*ROWS*SEATS holds (see common.lua).
--
-- Environment: EVENT, TOKENS (a file of access JWTs, one per line; or TOKEN,
-- one JWT for every request), SECTIONS, ROWS, SEATS, THREADS
-- (the wrk -t value; keeps threads apart), optional SECTION_FORMAT ("S%02d").
--   THREADS=2 EVENT=... TOKENS=tokens.txt SECTIONS=50 ROWS=40 SEATS=50 \
--     wrk -t2 -c64 -d15s --latency -s tests/bench/hold_random.lua http://127.0.0.1:8080
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")
SCENARIO = "hold_random"

local event = common.env("EVENT")
local sections = tonumber(common.env("SECTIONS"))
local rows = tonumber(common.env("ROWS"))
local seats = tonumber(common.env("SEATS"))
local fmt = common.env("SECTION_FORMAT", "S%02d")
local path = "/api/v1/events/" .. event .. "/holds"

wrk.method = "POST"

setup = common.setup
response = common.response
done = common.done

local next_seat, next_headers
function init(args)
    next_headers = common.token_maker()
    next_seat = common.seat_maker(sections, rows, seats, function(s)
        return string.format(fmt, s)
    end)
end

function request()
    return wrk.format(nil, path, next_headers(), '{"seats":["' .. next_seat() .. '"]}')
end
