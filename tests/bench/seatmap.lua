-- seatmap.lua — wrk script: GET /api/v1/events/<EVENT>/seats, the seat map
-- (tests/bench/seatmap.sh runs it while holds change the map).
--
-- Environment: EVENT, CONNECTIONS (the -c value, for the mean latency),
-- optional MIN_SEQ (sent as ?min_seq=), ENCODING (zstd, the default, sends
-- `Accept-Encoding: gzip, deflate, br, zstd` as Chrome 123+ does, Firefox
-- 126+ the same codings, and gets zstd; gzip sends `Accept-Encoding: gzip`,
-- as browsers without zstd get gzip; identity sends none, the old way),
-- CHECK=1 (see below), THINK_MS (each connection waits that long
-- after an answer before it asks again, as a person's browser refreshing the
-- map does; unset or 0: at once, so the connections saturate the server).
--   EVENT=... wrk -t2 -c8 -d10s --latency -s tests/bench/seatmap.lua http://127.0.0.1:8080
--
-- With CHECK=1 each thread also counts answers by status, the bytes of the
-- 200s and the distinct as_of_seq values it saw (read from the head of each
-- body), so the report shows that the map changed while it was read. That
-- makes wrk copy every body (megabytes) into Lua, which costs wrk more CPU
-- than parsing the answer: timed runs leave it off, and non-2xx answers are
-- then counted from wrk's own summary. A gzip or zstd body cannot be read
-- here (no zlib or zstd in wrk's Lua): its as_of_seq is not counted, and
-- seatmap_check.py decompresses and checks those answers instead.
local event = os.getenv("EVENT") or error("tests/bench: EVENT is required")
local min_seq = os.getenv("MIN_SEQ")
local path = "/api/v1/events/" .. event .. "/seats"
if min_seq and min_seq ~= "" then
    path = path .. "?min_seq=" .. min_seq
end

local encoding = os.getenv("ENCODING") or "zstd"
local req_headers = {}
if encoding == "zstd" then
    req_headers["Accept-Encoding"] = "gzip, deflate, br, zstd"
elseif encoding == "gzip" then
    req_headers["Accept-Encoding"] = "gzip"
elseif encoding ~= "identity" then
    error("tests/bench: ENCODING is zstd, gzip or identity")
end

local threads = {}
function setup(thread)
    table.insert(threads, thread)
end

counts = { ok = 0, other = 0, bytes = 0, versions = 0, min_as_of = -1, max_as_of = -1 }
local last_as_of = nil

function request()
    return wrk.format("GET", path, req_headers)
end

local function check(status, headers, body)
    if status ~= 200 then
        counts.other = counts.other + 1
        if counts.other <= 3 then
            io.stderr:write(string.format("[seatmap] status %d: %s\n", status,
                tostring(body):sub(1, 200)))
        end
        return
    end
    counts.ok = counts.ok + 1
    counts.bytes = counts.bytes + #body
    if (headers["Content-Encoding"] or headers["content-encoding"]) ~= nil then
        return -- compressed: seatmap_check.py reads those
    end
    local as_of = tonumber(body:sub(1, 200):match('"as_of_seq":(%d+)'))
    if as_of and as_of ~= last_as_of then
        counts.versions = counts.versions + 1
        last_as_of = as_of
        if counts.min_as_of < 0 or as_of < counts.min_as_of then
            counts.min_as_of = as_of
        end
        if as_of > counts.max_as_of then
            counts.max_as_of = as_of
        end
    end
end

if os.getenv("CHECK") == "1" then
    response = check
end

-- wrk times a request from when it is written, so the wait is not counted
-- in the latency; defining delay() at all makes wrk wait, hence the guard.
local think_ms = tonumber(os.getenv("THINK_MS") or "0") or error("tests/bench: THINK_MS is a number")
if think_ms > 0 then
    function delay()
        return think_ms
    end
end

-- done(): a human summary and one line starting with "BENCH " (seatmap.sh
-- reads it). Latency percentiles are wrk's own (corrected for coordinated
-- omission, as in common.lua).
function done(summary, latency, requests)
    local ok, other, bytes, versions, lo, hi = 0, 0, 0, 0, -1, -1
    for _, t in ipairs(threads) do
        local c = t:get("counts")
        ok = ok + c.ok
        other = other + c.other
        bytes = bytes + c.bytes
        versions = versions + c.versions
        if c.min_as_of >= 0 and (lo < 0 or c.min_as_of < lo) then
            lo = c.min_as_of
        end
        if c.max_as_of > hi then
            hi = c.max_as_of
        end
    end
    local secs = summary.duration / 1e6
    local e = summary.errors
    if os.getenv("CHECK") ~= "1" then
        other = e.status
        ok = summary.requests - e.status
        bytes = summary.bytes
    end
    local sock_errors = e.connect + e.read + e.write + e.timeout
    local rps = summary.requests / secs
    local conns = tonumber(os.getenv("CONNECTIONS") or "")
    -- Little's law: each connection is either waiting for an answer or thinking.
    local mean = conns and rps > 0 and conns / rps * 1000 - think_ms or -1
    io.write(string.format("seat map: %d requests in %.2f s = %.0f requests/s, %.1f MB/s\n",
        summary.requests, secs, rps, summary.bytes / secs / 1e6))
    io.write(string.format("  latency (wrk) p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms\n",
        latency:percentile(50) / 1000, latency:percentile(90) / 1000,
        latency:percentile(99) / 1000, latency.max / 1000))
    io.write(string.format("  200: %d  other: %d  socket errors: %d  as_of_seq changes seen: %d (%d..%d)\n",
        ok, other, sock_errors, versions, lo, hi))
    io.write(string.format(
        'BENCH {"scenario":"seatmap","requests":%d,"seconds":%.3f,"rps":%.1f,' ..
        '"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,"mean_ms":%.3f,' ..
        '"s200":%d,"other":%d,"socket_errors":%d,"bytes_per_answer":%d,' ..
        '"as_of_changes":%d,"as_of_first":%d,"as_of_last":%d,"encoding":"%s"}\n',
        summary.requests, secs, rps, latency:percentile(50) / 1000,
        latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000, mean,
        ok, other, sock_errors, ok > 0 and math.floor(bytes / ok) or 0, versions, lo, hi, encoding))
end
