#!/usr/bin/env bash
# tests/bench/seatmap.sh — the seat-map benchmark of DESIGN.md ("Performance
# targets": the seat map of a 50,000-seat event, p99 <= 10 ms under load),
# in one command:
#
#   1. builds the Release tree if needed (turnstile);
#   2. starts nats-server (JetStream) and PostgreSQL (durable settings, as in
#      ops/up) on free ports in a temp dir, then `turnstile serve` and
#      `turnstile project`;
#   3. loads one published event of 50,000 seats: 50 seated sections S00..S49
#      of 25 rows x 40 seats, one tier;
#   4. registers 10 attendees (the event's max_per_user is 1,000, the most
#      RULE-HOLD-4 allows, so 10 users can hold 10,000 seats) and starts
#      tests/bench/hold_stream.py: BENCH_HOLD_RATE one-seat holds a second
#      on the event, round-robin over the sections and the users, for as
#      long as the benchmark runs, so the map keeps changing; the run fails
#      when fewer than 95 % of the holds were made;
#   5. reads the map once with CHECK=1 for 3 s (wrk copies every body into
#      Lua and counts the distinct as_of_seq it saw in identity bodies: the
#      map did change while it was read), then for 3 s with
#      tests/bench/seatmap_check.py, which asks for zstd, gzip and identity
#      in turn and checks that every zstd body decompresses (zstd -dc, each
#      frame's checksum checked, no window above 8 MB) and every gzip body
#      too (CRC-32 and length checked) to a 50,000-seat map and every
#      identity body is one; then, for each value of BENCH_CONNECTIONS, runs
#      wrk -t BENCH_THREADS -c <n> -d BENCH_DURATION on GET
#      /api/v1/events/<event>/seats, sending `Accept-Encoding: gzip, deflate,
#      br, zstd` as Chrome 123+ and Firefox 126+ do (BENCH_ENCODING=gzip:
#      `Accept-Encoding: gzip`, as browsers without zstd get gzip;
#      BENCH_ENCODING=identity: none);
#   6. checks read-your-writes after the runs: the map asked with
#      ?min_seq=<the last hold's commit_seq> shows that seat held;
#   7. prints a summary and appends one JSON line per wrk run to the results
#      file (requests/s, p50/p90/p99, CPU seconds of serve, project,
#      PostgreSQL, nats-server and wrk, the holds made meanwhile, the
#      machine, the date, the commit); stops everything (trap).
#
# Settings (environment):
#   BENCH_THREADS      wrk -t                           2
#   BENCH_CONNECTIONS  wrk -c, one run per value        "4 8 16"
#   BENCH_DURATION     wrk -d                           10s
#   BENCH_THINK_MS     each connection waits this long   0
#                      after an answer (a browser that
#                      refreshes the map), 0: none
#   BENCH_HOLD_RATE    background holds a second        100
#   BENCH_ENCODING     zstd (Accept-Encoding: gzip,     zstd
#                      deflate, br, zstd: browsers
#                      since 2024), gzip (Accept-
#                      Encoding: gzip) or identity
#                      (no Accept-Encoding)
#   BENCH_BUILD_DIR    Release build tree               <repo>/build
#   BENCH_RESULTS      JSON lines appended per run      <repo>/tests/bench/seatmap-results.jsonl
#   BENCH_PG_FAST      1: PostgreSQL with fsync off     0 (durable, like ops/up)
#   BENCH_KEEP_DIR     copy the logs here before cleanup
#   TMPDIR             where the temp dir goes
set -eu -o pipefail
cd "$(dirname "$0")/../.."
. ops/lib.sh
. tests/bench/lib.sh # bench_stack_start, bench_serve_start, bench_api, bench_teardown, ticks, child_cpu
root=$TS_ROOT
bench=$root/tests/bench

threads=${BENCH_THREADS:-2}
conn_list=${BENCH_CONNECTIONS:-4 8 16}
duration=${BENCH_DURATION:-10s}
think_ms=${BENCH_THINK_MS:-0}
[[ $think_ms =~ ^[0-9]+$ ]] || { ts_err "BENCH_THINK_MS is a whole number of milliseconds"; exit 1; }
hold_rate=${BENCH_HOLD_RATE:-100}
encoding=${BENCH_ENCODING:-zstd}
case $encoding in zstd | gzip | identity) ;; *) ts_err "BENCH_ENCODING is zstd, gzip or identity" && exit 1 ;; esac
build=${BENCH_BUILD_DIR:-$root/build}
results=${BENCH_RESULTS:-$bench/seatmap-results.jsonl}
keep=${BENCH_KEEP_DIR:-}
admin_email=bench-admin@turnstile.local
admin_password=bench-admin-password
sections=50 rows=25 seats=40
for tool in wrk nats-server curl jq python3 zstd; do
    command -v "$tool" >/dev/null || { ts_err "$tool is missing (ops/lib.sh ts_install_deps)"; exit 1; }
done

# ---- 1. build (Release) ----
if [ "$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null)" != Release ]; then
    ts_log "configuring $build (Release)"
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
ts_log "building $build"
cmake --build "$build" -j"$(nproc)" --target turnstile >/dev/null
bin=$build/cli/turnstile

# ---- 2. the stack, in a temp dir removed on exit ----
tmp=$(bench_mktemp ts-seatmap-bench)
holds_pid=""
cleanup() {
    local rc=$?
    set +e
    [ -z "$holds_pid" ] || { kill "$holds_pid" 2>/dev/null; wait "$holds_pid" 2>/dev/null; }
    ts_stop_pidfile "$tmp/run/project.pid" turnstile 20
    ts_stop_pidfile "$tmp/run/serve.pid" turnstile 20
    bench_teardown logs logs
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$tmp/run" "$tmp/logs" "$tmp/data"

bench_stack_start
bench_serve_start "$admin_email" "$admin_password" # root_url, api, serve_pid
ts_log "starting turnstile project"
ts_spawn "$tmp/run/project.pid" "$tmp/logs/project.log" "$bin" project
project_pid=$(cat "$tmp/run/project.pid")

# ---- 3. admin token, the event ----
token=""
token=$(bench_api POST /auth/login "$(jq -nc --arg e "$admin_email" --arg p "$admin_password" \
    '{email: $e, password: $p}')" | jq -er .access_token)
keys=$(jq -nc --argjson n $sections \
    '[range(0; $n) as $i | "S" + (if $i < 10 then "0" else "" end) + ($i | tostring)]')
venue=$(jq -nc --argjson k "$keys" --argjson r $rows --argjson s $seats \
    '{name: "Seat map bench", city: "Zagreb", country: "HR",
      sections: [$k[] as $key | {key: $key, name: $key, kind: "seated",
        rows: [range(1; $r + 1) as $i | {label: ($i | tostring), seats: $s, accessible: [1, 2]}]}]}')
venue_id=$(bench_api POST /venues "$venue" | jq -er .venue_id)
day=$(date -u -d '+30 days' +%F)
now=$(date -u -d '-1 hour' +%FT%H:%M:%SZ)
event=$(jq -nc --arg v "$venue_id" --arg day "$day" --arg now "$now" --argjson k "$keys" '
    {venue_id: $v, title: "Bench seat map", genre: "football", description: "tests/bench",
     starts_at: "\($day)T19:00:00Z", ends_at: "\($day)T21:00:00Z",
     policy: {max_per_user: 1000},
     tiers: [{key: "std", name: "Standard", price: {amount: 2500, currency: "EUR"},
              sections: $k, sale_starts_at: $now, sale_ends_at: "\($day)T19:00:00Z"}]}')
event_id=$(bench_api POST /events "$event" | jq -er .event_id)
published=$(bench_api POST "/events/$event_id/publish" "" | jq -er .commit_seq)
total=$(bench_api GET "/events/$event_id/seats?min_seq=$published" | jq '[.sections[].seats | length] | add')
[ "$total" = $((sections * rows * seats)) ] || { ts_err "the map has $total seats"; exit 1; }
ts_log "event $event_id: $total seats in $sections sections"

# ---- machine and build ----
bench_machine
commit=$(bench_commit)
wrk_version=$( (wrk -v 2>&1 || true) | awk 'NR == 1 {print $2}')

cpu_snapshot() {
    echo "$(ticks "$serve_pid") $(ticks "$project_pid") $(ticks "$(cat "$tmp/run/nats.pid")") \
$(ticks $(pg_pids)) $(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat)"
}

# ---- 4. the holds ----
ts_log "registering 10 attendees for the holds"
users=""
for i in $(seq 10); do
    email=bench-user-$i@turnstile.local
    admin_token=$token
    token=""
    bench_api POST /auth/register "$(jq -nc --arg e "$email" \
        '{email: $e, password: "bench-user-password", name: "Bench User"}')" >/dev/null
    users="$users${users:+,}$(bench_api POST /auth/login "$(jq -nc --arg e "$email" \
        '{email: $e, password: "bench-user-password"}')" | jq -er .access_token)"
    token=$admin_token
done
ts_log "holds in the background: $hold_rate a second"
python3 "$bench/hold_stream.py" "$root_url" "$users" "$event_id" $sections $rows $seats \
    "$hold_rate" >"$tmp/logs/holds.json" 2>"$tmp/logs/holds.err" &
holds_pid=$!
sleep 1

# ---- 5. wrk ----
url=$root_url
ts_log "check run: CHECK=1 wrk -t$threads -c4 -d3s (the map changes while it is read)"
check=$(CHECK=1 ENCODING=identity EVENT=$event_id CONNECTIONS=4 wrk -t"$threads" -c4 -d3s --timeout 5s --latency \
    -s "$bench/seatmap.lua" "$url" 2>"$tmp/logs/wrk.check.err")
printf '%s\n' "$check" | grep -v '^BENCH ' >&2
check_line=$(printf '%s\n' "$check" | sed -n 's/^BENCH //p')
ts_log "content check: seatmap_check.py for 3 s (zstd, gzip and identity answers decompress and parse)"
content_check=$(python3 "$bench/seatmap_check.py" "$root_url" "$event_id" $((sections * rows * seats)) 3)
ts_log "content check: $content_check"
declare -A rps p50 p99 other cpu_us bytes
for c in $conn_list; do
    ts_log "wrk -t$threads -c$c -d$duration $url (GET /events/$event_id/seats)"
    load0=$(cut -d' ' -f1 /proc/loadavg)
    c0=$(cpu_snapshot)
    child_cpu w0
    out=$(THINK_MS=$think_ms ENCODING=$encoding EVENT=$event_id CONNECTIONS=$c wrk -t"$threads" -c"$c" -d"$duration" --timeout 5s \
        --latency -s "$bench/seatmap.lua" "$url" 2>"$tmp/logs/wrk.$c.err")
    child_cpu w1
    c1=$(cpu_snapshot)
    load1=$(cut -d' ' -f1 /proc/loadavg)
    printf '%s\n' "$out" | grep -v '^BENCH ' >&2
    line=$(printf '%s\n' "$out" | sed -n 's/^BENCH //p')
    [ -n "$line" ] || { ts_err "wrk printed no BENCH line"; exit 1; }
    rps[$c]=$(jq -r .rps <<<"$line")
    p50[$c]=$(jq -r .p50_ms <<<"$line")
    p99[$c]=$(jq -r .p99_ms <<<"$line")
    other[$c]=$(jq -r .other <<<"$line")
    bytes[$c]=$(jq -r .bytes_per_answer <<<"$line")
    cpu=$(awk -v a="$c0" -v b="$c1" -v hz="$hz" -v w0="$w0" -v w1="$w1" '
        BEGIN { split(a, x, " "); split(b, y, " "); split("serve project nats postgres", k, " ");
          s = "{"; for (i = 1; i <= 4; i++) s = s sprintf("\"%s\":%.2f,", k[i], (y[i] - x[i]) / hz);
          printf "%s\"wrk\":%.2f,\"machine_busy\":%.2f}", s, w1 - w0, (y[5] - x[5]) / hz }')
    # CPU microseconds per answer: serve, PostgreSQL, wrk.
    cpu_us[$c]=$(jq -r --argjson n "$(jq .requests <<<"$line")" \
        '[.serve, .postgres, .wrk] | map(if $n > 0 then . * 1e6 / $n | floor else 0 end) | join(" / ")' <<<"$cpu")
    jq -nc --argjson r "$line" --argjson cpu "$cpu" --argjson check "$check_line" \
        --argjson content "$content_check" --arg enc "$encoding" \
        --arg date "$date_utc" --arg commit "$commit" --arg event "$event_id" \
        --arg cpu_model "$cpu_model" --argjson ncpu "$ncpu" --argjson ram "$ram_gib" \
        --argjson t "$threads" --argjson c "$c" --arg d "$duration" --argjson rate "$hold_rate" \
        --arg nats "$nats_version" --arg pg "$pg_version" --arg wrkv "$wrk_version" \
        --arg pgfast "${BENCH_PG_FAST:-0}" --argjson think "$think_ms" --argjson l0 "$load0" --argjson l1 "$load1" \
        '$r + {loadavg_1min: {before: $l0, after: $l1}, date: $date, commit: $commit, seats: 50000, sections: 50, hold_rate: $rate,
               wrk: {threads: $t, connections: $c, duration: $d, version: $wrkv, think_ms: $think},
               cpu_seconds: $cpu, check_run: $check, content_check: $content,
               encoding: $enc, pg_fast: ($pgfast == "1"),
               machine: {nproc: $ncpu, cpu: $cpu_model, ram_gib: $ram},
               versions: {nats_server: $nats, postgres: $pg}}' >>"$tmp/logs/results.jsonl"
done

# ---- 6. read-your-writes after all that ----
kill "$holds_pid" && wait "$holds_pid" || true
holds_pid=""
holds=$(cat "$tmp/logs/holds.json")
last=$(jq -r .last_commit_seq <<<"$holds")
ts_log "holds: $holds"
made=$(jq '.statuses["201"] // 0' <<<"$holds")
[ $((made * 100)) -ge $(($(jq .holds <<<"$holds") * 95)) ] ||
    { ts_err "only $made holds were made: the map did not change as it should"; exit 1; }
held=$(bench_api GET "/events/$event_id/seats?min_seq=$last" |
    jq --argjson m "$last" 'if .as_of_seq >= $m then [.sections[].seats[] | select(.status == "held")] | length else -1 end')
[ "$held" -gt 0 ] || { ts_err "the map at min_seq=$last shows no held seat ($held)"; exit 1; }
ts_log "the map at min_seq=$last shows $held held seats"
jq -c --argjson h "$holds" --argjson held "$held" '. + {holds: $h, held_after: $held}' \
    "$tmp/logs/results.jsonl" | tee -a "$results" >/dev/null

# ---- 7. summary ----
{
    echo
    echo "Turnstile seat-map benchmark — $date_utc, commit $commit"
    echo "machine: $ncpu cores, $cpu_model, $ram_gib GiB RAM; nats-server $nats_version, PostgreSQL $pg_version, wrk $wrk_version"
    echo "event: 50,000 seats in 50 sections; $hold_rate holds/s in the background ($(jq -r .holds <<<"$holds") made)"
    echo "check run: $(jq -r '"\(.as_of_changes) as_of_seq changes seen (\(.as_of_first)..\(.as_of_last)), \(.bytes_per_answer) bytes an answer"' <<<"$check_line")"
    echo "content check: $(jq -r '"\(.zstd_answers) zstd answers of \(.zstd_bytes_per_answer) bytes, \(.gzip_answers) gzip answers of \(.gzip_bytes_per_answer) bytes and \(.identity_answers) identity answers of \(.identity_bytes_per_answer) bytes, each a map of \(.seats) seats; \(.as_of_changes) as_of_seq seen"' <<<"$content_check")"
    echo "timed runs: BENCH_ENCODING=$encoding, BENCH_THINK_MS=$think_ms"
    echo
    printf '%-12s %10s %9s %9s %7s %10s  %s\n' connections "req/s" "p50 ms" "p99 ms" "non-200" "bytes/ans" "CPU us/answer serve / postgres / wrk"
    for c in $conn_list; do
        printf '%-12s %10.0f %9.2f %9.2f %7d %10d  %s\n' "$c" "${rps[$c]}" "${p50[$c]}" "${p99[$c]}" "${other[$c]}" "${bytes[$c]}" "${cpu_us[$c]}"
    done
    echo
    echo "results appended to $results"
} | tee "$tmp/logs/summary.txt"
