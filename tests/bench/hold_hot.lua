-- hold_hot.lua — wrk script: the hot-section case. POST
-- /api/v1/events/<EVENT>/holds, one seat per hold, every hold in the ONE
-- section HOT_SECTION ("H") of ROWS rows x SEATS seats, so every command
-- goes to the same inventory shard (one lane: group commit). Seats are
-- walked pseudo-randomly and never repeat within ROWS*SEATS holds.
--
-- Environment: EVENT, TOKENS (a file of access JWTs, one per line; or TOKEN,
-- one JWT for every request), ROWS, SEATS, THREADS (the wrk -t value),
-- optional HOT_SECTION ("H"). SECTIONS is ignored (always 1).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")
SCENARIO = "hold_hot"

local event = common.env("EVENT")
local rows = tonumber(common.env("ROWS"))
local seats = tonumber(common.env("SEATS"))
local key = common.env("HOT_SECTION", "H")
local path = "/api/v1/events/" .. event .. "/holds"

wrk.method = "POST"

setup = common.setup
response = common.response
done = common.done

local next_seat, next_headers
function init(args)
    next_headers = common.token_maker()
    next_seat = common.seat_maker(1, rows, seats, function(s)
        return key
    end)
end

function request()
    return wrk.format(nil, path, next_headers(), '{"seats":["' .. next_seat() .. '"]}')
end
