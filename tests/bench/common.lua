-- common.lua — shared by the wrk scripts of tests/bench (loaded with dofile
-- from the script's own directory): seat ids from a permutation, the
-- per-thread status counts, and the report printed by done().
--
-- Seats: the seat index space 0..N-1 (N = SECTIONS * ROWS * SEATS) is walked
-- through the permutation idx -> (idx * P) mod N with P coprime to N, so
-- consecutive holds land on seats (and sections) far apart. Thread t of T
-- takes idx = t, t + T, t + 2T, ... so threads never collide; after N holds
-- the walk starts over and repeats seats (which then answer 409).
local M = {}

local function env(name, default)
    local v = os.getenv(name)
    if v == nil or v == "" then
        if default == nil then
            error("tests/bench: environment variable " .. name .. " is required")
        end
        return default
    end
    return v
end
M.env = env

local function gcd(a, b)
    while b ~= 0 do
        a, b = b, a % b
    end
    return a
end

-- The multiplier: near N times the golden ratio's fraction, nudged up to the
-- next value coprime to N (P = 1 only when N is tiny).
local function multiplier(n)
    if n <= 2 then
        return 1
    end
    local p = math.floor(n * 0.6180339887) + 1
    while gcd(p, n) ~= 1 do
        p = p + 1
    end
    return p % n
end

-- setup() runs in wrk's main Lua state, once per thread, before it starts.
local threads = {}
local next_tid = 0
function M.setup(thread)
    local nthreads = tonumber(env("THREADS", "1"))
    if next_tid >= nthreads then
        error(string.format("tests/bench: wrk started more threads than THREADS=%d", nthreads))
    end
    thread:set("tid", next_tid)
    thread:set("nthreads", nthreads)
    next_tid = next_tid + 1
    table.insert(threads, thread)
end

-- seat_maker(keyfn): a function returning the next seat id of this thread.
-- keyfn(section_number) names a section.
function M.seat_maker(sections, rows, seats, keyfn)
    local per_section = rows * seats
    local n = sections * per_section
    local p = multiplier(n)
    local counter = 0
    return function()
        local idx = (counter * nthreads + tid) % n
        counter = counter + 1
        local s = (idx * p) % n -- below 2^53: exact in LuaJIT's doubles
        local sec = math.floor(s / per_section)
        local rem = s - sec * per_section
        local row = math.floor(rem / seats) + 1
        local num = rem - (row - 1) * seats + 1
        return string.format("%s-%d-%d", keyfn(sec), row, num)
    end
end

-- token_maker(): a function returning the request headers of the next hold,
-- each with the access token of the next user in turn. TOKENS names a file
-- with one access token per line (run.sh registers BENCH_USERS users, because
-- RULE-HOLD-4 caps each user's tickets per event); without it, TOKEN is used
-- for every request. Thread t of T takes the tokens t, t + T, t + 2T, ...
-- (mod their number), one per request.
function M.token_maker()
    local tokens = {}
    local file = os.getenv("TOKENS")
    if file and file ~= "" then
        for line in io.lines(file) do
            if line ~= "" then
                tokens[#tokens + 1] = line
            end
        end
        if #tokens == 0 then
            error("tests/bench: no tokens in " .. file)
        end
    else
        tokens[1] = env("TOKEN")
    end
    -- One headers table per token, made once (wrk.format adds Host and
    -- Content-Length to it on every call, which is harmless).
    local headers = {}
    for i, t in ipairs(tokens) do
        headers[i] = { ["Authorization"] = "Bearer " .. t, ["Content-Type"] = "application/json" }
    end
    local counter = 0
    return function()
        local h = headers[(counter * nthreads + tid) % #headers + 1]
        counter = counter + 1
        return h
    end
end

-- Status counts of this thread: 201, 409, and everything else.
counts = { c201 = 0, c409 = 0, other = 0 }
function M.response(status, headers, body)
    if status == 201 then
        counts.c201 = counts.c201 + 1
    elseif status == 409 then
        counts.c409 = counts.c409 + 1
        if counts.c409 <= 3 then
            io.stderr:write(string.format("[%s] status 409: %s\n", SCENARIO or "?",
                tostring(body):sub(1, 300)))
        end
    else
        counts.other = counts.other + 1
        if counts.other <= 3 then
            io.stderr:write(string.format("[%s] status %d: %s\n", SCENARIO or "?", status,
                tostring(body):sub(1, 200)))
        end
    end
end

-- done(): runs in the main state after the run. Prints a human summary and
-- one machine-readable line starting with "BENCH " (read by run.sh).
-- p50/p90/p99 are wrk's own figures, as wrk prints them: wrk 4 "corrects"
-- its latency histogram for coordinated omission before done() sees it (each
-- latency n >= 2e adds synthetic samples n-e, n-2e, ... where e = duration /
-- (requests / connections)), so stalls weigh more than the requests they
-- delayed. The raw per-request histogram is not reachable from Lua. mean_ms
-- is the measured mean latency by Little's law (connections / rate: wrk keeps
-- every connection busy), from CONNECTIONS (the -c value) when set.
function M.done(summary, latency, requests)
    local c201, c409, other = 0, 0, 0
    for _, t in ipairs(threads) do
        local c = t:get("counts")
        c201 = c201 + c.c201
        c409 = c409 + c.c409
        other = other + c.other
    end
    local secs = summary.duration / 1e6
    local e = summary.errors
    local sock_errors = e.connect + e.read + e.write + e.timeout
    local rps = summary.requests / secs
    local p50 = latency:percentile(50) / 1000
    local p90 = latency:percentile(90) / 1000
    local p99 = latency:percentile(99) / 1000
    local conns = tonumber(os.getenv("CONNECTIONS") or "")
    local mean = conns and rps > 0 and conns / rps * 1000 or -1
    io.write(string.format("scenario %s: %d requests in %.2f s = %.0f requests/s\n",
        SCENARIO, summary.requests, secs, rps))
    io.write(string.format("  latency (wrk, CO-corrected) p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms\n",
        p50, p90, p99, latency.max / 1000))
    if mean > 0 then
        io.write(string.format("  mean latency (connections / rate) %.2f ms\n", mean))
    end
    io.write(string.format("  status 201: %d  409: %d  other: %d  (201/s %.0f)  socket errors: %d\n",
        c201, c409, other, c201 / secs, sock_errors))
    io.write(string.format(
        'BENCH {"scenario":"%s","requests":%d,"seconds":%.3f,"rps":%.1f,"ok_per_s":%.1f,' ..
        '"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,' ..
        '"mean_ms":%.3f,' ..
        '"s201":%d,"s409":%d,"other":%d,"socket_errors":%d}\n',
        SCENARIO, summary.requests, secs, rps, c201 / secs, p50, p90, p99, latency.max / 1000,
        mean, c201, c409, other, sock_errors))
end

return M
