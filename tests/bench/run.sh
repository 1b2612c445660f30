#!/usr/bin/env bash
# tests/bench/run.sh — the hold benchmark of DESIGN.md ("Performance
# targets"), in one command and one run:
#
#   1. builds the Release tree if needed (turnstile, bare_mhd);
#   2. starts nats-server (JetStream) and PostgreSQL on free ports in a temp
#      dir (ops/lib.sh), then `turnstile serve` and `turnstile project`;
#   3. logs in as admin and loads two published events: "stadium", 50 seated
#      sections S00..S49 of 40 rows x 50 seats (100,000 seats), and "hot",
#      one seated section H of 400 rows x 250 seats (100,000 seats), both
#      with max_per_user BENCH_MAX_PER_USER; registers BENCH_USERS attendees
#      (POST /auth/register, then /auth/login, 8 at a time) whose access
#      tokens the hold scenarios take in turn, one per request: RULE-HOLD-4
#      caps each user's tickets per event, so one user could not buy them all;
#   4. starts tests/bench/bare_mhd on a free port;
#   5. runs wrk, in this order: bare (bare.lua against bare_mhd), hold_random
#      (hold_random.lua), hold_hot (hold_hot.lua);
#   6. prints a summary table and appends one JSON line per scenario to the
#      results file; stops everything and removes the temp dir (trap).
#
# Settings (environment):
#   BENCH_THREADS      wrk -t                           2
#   BENCH_CONNECTIONS  wrk -c                           64
#   BENCH_DURATION     wrk -d                           8s
#                      (each hold scenario has 100,000 seats: a run that sells
#                      them all answers 409s after that and is flagged
#                      "sold_out"; shorten the duration if that happens)
#   BENCH_TIMEOUT      wrk --timeout                    5s
#   BENCH_USERS        attendees whose tokens the holds use  200
#   BENCH_MAX_PER_USER the events' max_per_user (at most 1000; the holds of a
#                      user per event stay under 100,000 / BENCH_USERS)  1000
#   BENCH_SCENARIOS    which scenarios, in order        "bare hold_random hold_hot"
#   BENCH_BUILD_DIR    Release build tree               <repo>/build
#   BENCH_RESULTS      JSON lines appended per scenario <repo>/tests/bench/results.jsonl
#   BENCH_PG_FAST      1: PostgreSQL with fsync off     0 (durable, like ops/up)
#   BENCH_SAMPLE_MS    GET /metrics every N ms while wrk runs, to find commit
#                      stalls; 0: off                    100
#   BENCH_PERF         1: perf record serve during the hold scenarios (report kept
#                      in BENCH_KEEP_DIR)                0
#   BENCH_KEEP_DIR     copy logs, metrics and perf reports here before cleanup
#   TURNSTILE_WORKERS  engine lanes decided in parallel (serve's default: 16)
#   TMPDIR             where the temp dir goes
set -eu -o pipefail
cd "$(dirname "$0")/../.."
. ops/lib.sh
. tests/bench/lib.sh # bench_*, ticks, pg_pids, child_cpu, hz
root=$TS_ROOT
bench=$root/tests/bench

threads=${BENCH_THREADS:-2}
conns=${BENCH_CONNECTIONS:-64}
duration=${BENCH_DURATION:-8s}
timeout=${BENCH_TIMEOUT:-5s}
n_users=${BENCH_USERS:-200}
# The machine may be shared: its load before anything here starts.
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
max_per_user=${BENCH_MAX_PER_USER:-1000}
scenarios=${BENCH_SCENARIOS:-bare hold_random hold_hot}
build=${BENCH_BUILD_DIR:-$root/build}
results=${BENCH_RESULTS:-$bench/results.jsonl}
keep=${BENCH_KEEP_DIR:-}
sample_ms=${BENCH_SAMPLE_MS:-100}
sample_s=$(awk -v m="$sample_ms" 'BEGIN { printf "%.3f", m / 1000 }')
admin_email=bench-admin@turnstile.local
admin_password=bench-admin-password
for tool in wrk nats-server curl jq python3; do
    command -v "$tool" >/dev/null || { ts_err "$tool is missing (ops/lib.sh ts_install_deps)"; exit 1; }
done

# ---- 1. build (Release) ----
bench_build "$build" turnstile bare_mhd
bin=$build/cli/turnstile
bare_bin=$build/tests/bench/bare_mhd

# ---- 2. the stack, in a temp dir removed on exit ----
tmp=$(bench_mktemp ts-bench)
serve_pid="" project_pid="" bare_pid="" perf_pid="" sampler_pid=""
cleanup() {
    local rc=$?
    set +e
    [ -z "$perf_pid" ] || { kill -INT "$perf_pid" 2>/dev/null; wait "$perf_pid" 2>/dev/null; }
    [ -z "$sampler_pid" ] || { kill "$sampler_pid" 2>/dev/null; wait "$sampler_pid" 2>/dev/null; }
    ts_stop_pidfile "$tmp/run/bare.pid" bare_mhd 5
    ts_stop_pidfile "$tmp/run/project.pid" turnstile 20
    ts_stop_pidfile "$tmp/run/serve.pid" turnstile 20
    bench_teardown "logs, metrics and reports" logs out
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$tmp/run" "$tmp/logs" "$tmp/out" "$tmp/data"

bench_stack_start
bench_serve_start "$admin_email" "$admin_password" # root_url, api, serve_pid
bare_port=$(ts_free_port)
ts_log "starting turnstile project"
ts_spawn "$tmp/run/project.pid" "$tmp/logs/project.log" "$bin" project
project_pid=$(cat "$tmp/run/project.pid")

# ---- 3. admin token, venues, events ----
# bench_api (lib.sh) calls the REST API as $token.
token=""
token=$(bench_api POST /auth/login "$(jq -nc --arg e "$admin_email" --arg p "$admin_password" \
    '{email: $e, password: $p}')" | jq -er .access_token)

# load_event NAME SECTIONS_JSON TIER_SECTIONS_JSON: venue + published event;
# prints the event id.
load_event() {
    local name=$1 sections=$2 tier_sections=$3 venue venue_id day now event event_id
    venue=$(jq -nc --arg n "$name" --argjson s "$sections" \
        '{name: $n, city: "Zagreb", country: "HR", sections: $s}')
    venue_id=$(bench_api POST /venues "$venue" | jq -er .venue_id)
    day=$(date -u -d '+30 days' +%F)
    now=$(date -u -d '-1 hour' +%FT%H:%M:%SZ)
    event=$(jq -nc --arg v "$venue_id" --arg n "$name" --arg day "$day" --arg now "$now" \
        --argjson ts "$tier_sections" --argjson mpu "$max_per_user" '
        {venue_id: $v, title: "Bench \($n)", genre: "football", description: "tests/bench",
         starts_at: "\($day)T19:00:00Z", ends_at: "\($day)T21:00:00Z",
         policy: {max_per_user: $mpu},
         tiers: [{key: "std", name: "Standard", price: {amount: 2500, currency: "EUR"},
                  sections: $ts, sale_starts_at: $now, sale_ends_at: "\($day)T19:00:00Z"}]}')
    event_id=$(bench_api POST /events "$event" | jq -er .event_id)
    bench_api POST "/events/$event_id/publish" "" >/dev/null
    echo "$event_id"
}
rand_sections=50 rand_rows=40 rand_seats=50
hot_rows=400 hot_seats=250
ts_log "loading the stadium: $rand_sections sections x $rand_rows rows x $rand_seats seats"
stadium=$(load_event stadium \
    "$(jq -nc --argjson n $rand_sections --argjson r $rand_rows --argjson s $rand_seats \
        '[range(0; $n) as $i | {key: ("S" + (if $i < 10 then "0" else "" end) + ($i | tostring)),
          name: "Section \($i)", kind: "seated",
          rows: [range(1; $r + 1) as $k | {label: ($k | tostring), seats: $s}]}]')" \
    "$(jq -nc --argjson n $rand_sections \
        '[range(0; $n) as $i | "S" + (if $i < 10 then "0" else "" end) + ($i | tostring)]')")
ts_log "loading the hot section: H, $hot_rows rows x $hot_seats seats"
hot=$(load_event hot \
    "$(jq -nc --argjson r $hot_rows --argjson s $hot_seats \
        '[{key: "H", name: "Hot", kind: "seated",
           rows: [range(1; $r + 1) as $k | {label: ($k | tostring), seats: $s}]}]')" '["H"]')
ts_log "events: stadium $stadium, hot $hot"

# ---- 3b. the buyers: BENCH_USERS attendees, their access tokens in a file ----
# bench_user N: registers attendee N and logs in; prints the access token
# (15 minutes: longer than a run). Runs in xargs' children, hence exported.
bench_user() {
    local email="bench-user-$1-$run_tag@turnstile.local" password=bench-user-password
    curl -fsS -o /dev/null -X POST -H 'Content-Type: application/json' --data-binary \
        "$(jq -nc --arg e "$email" --arg p "$password" '{email: $e, password: $p, name: "Bench"}')" \
        "$api/auth/register" || return 1
    curl -fsS -X POST -H 'Content-Type: application/json' --data-binary \
        "$(jq -nc --arg e "$email" --arg p "$password" '{email: $e, password: $p}')" \
        "$api/auth/login" | jq -er .access_token
}
run_tag=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
export -f bench_user
export api run_tag
ts_log "registering $n_users users (8 at a time)"
seq "$n_users" | xargs -P 8 -n 1 bash -c 'bench_user "$1"' _ >"$tmp/out/tokens"
[ "$(wc -l <"$tmp/out/tokens")" -eq "$n_users" ] || { ts_err "registered $(wc -l <"$tmp/out/tokens") of $n_users users"; exit 1; }

# ---- 4. the bare handler ----
ts_spawn "$tmp/run/bare.pid" "$tmp/logs/bare.log" "$bare_bin" "$bare_port"
bare_pid=$(cat "$tmp/run/bare.pid")
ts_wait_port "$bare_port" 10 "$bare_pid"

# ---- machine and build ----
bench_machine # cpu_model, ram_gib, ncpu, date_utc, nats_version, pg_version
commit=$(bench_commit ':(exclude)projections')
# projections/ may be a symlink to another worktree while that branch is
# being finished: record its commit too.
proj_dir=$(readlink -f "$root/projections")
proj_commit=$(git -C "$proj_dir" rev-parse --short=12 HEAD 2>/dev/null || echo "-")
[ "$proj_commit" = - ] || git -C "$proj_dir" diff --quiet HEAD -- . 2>/dev/null || proj_commit="$proj_commit+dirty"
wrk_version=$( (wrk -v 2>&1 || true) | awk 'NR == 1 {print $2}')

# ---- CPU accounting: seconds of CPU per process (group) over a scenario ----
# cpu_snapshot: "serve project nats postgres bare machine_busy irq+softirq" in
# ticks (interrupt time, mostly loopback TCP, is charged to no process).
cpu_snapshot() {
    local busy
    busy=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $7 + $8 }' /proc/stat)
    echo "$(ticks "$serve_pid") $(ticks "$project_pid") $(ticks "$(cat "$tmp/run/nats.pid")") \
$(ticks $(pg_pids)) $(ticks "$bare_pid") $busy"
}

# child_cpu (lib.sh) gives wrk's CPU: the only waited-for child that matters
# during a scenario.

# metrics FILE: save GET /metrics of serve (histograms are cumulative since
# start; a scenario's own figures are the growth between two snapshots).
metrics() { curl -fsS --max-time 5 "$root_url/metrics" >"$1" || : >"$1"; }
# metric_delta BEFORE AFTER PREFIX: the growth of the series starting with PREFIX.
metric_delta() {
    awk -v p="$3" 'index($1, p) != 1 { next } NR == FNR { before[$1] = $2; next }
        { printf "%s %g\n", $1, $2 - before[$1] }' "$1" "$2"
}
# histogram_json: {"buckets_cumulative": {le: n}, "sum": x, "count": n} from
# metric_delta lines on stdin.
histogram_json() {
    awk '/_bucket/ { match($1, /le="[^"]*"/); le = substr($1, RSTART + 4, RLENGTH - 5);
                     b = b sprintf("%s\"%s\":%d", (b == "" ? "" : ","), le, $2) }
         /_sum/ { sum = $2 } /_count/ { count = $2 }
         END { printf "{\"buckets_cumulative\":{%s},\"sum\":%.6g,\"count\":%d}", b, sum, count }'
}
ctxt() { awk '/^ctxt / { print $2 }' /proc/stat; }

# sampler FILE: every BENCH_SAMPLE_MS (100) ms, one line "<ms since start> <commits> <commands
# in commits>" from GET /metrics, until killed. Shows stalls: stretches with
# no commit while wrk keeps every connection busy.
sampler() {
    local t0 now m
    t0=$(date +%s%3N)
    while :; do
        m=$(curl -fsS --max-time 2 "$root_url/metrics" 2>/dev/null |
            awk '/^turnstile_commits_total / { c = $2 } /^turnstile_commit_batch_size_sum / { s = $2 }
                 END { print c + 0, s + 0 }') || m="- -"
        now=$(date +%s%3N)
        echo "$((now - t0)) $m"
        sleep "$sample_s"
    done >"$1"
}
# stalls FILE: from a sampler file, the stretches in which two or more
# successive samples saw the same commit count, i.e. no commit completed for
# at least that long (only stretches that end with a new commit count: the
# idle tail after a sell-out or after wrk stopped does not). Prints JSON.
stalls() {
    awk 'NR == 1 { pc = $2; pt = $1; next }
         $2 == pc { if (!in_stall) { st = pt; in_stall = 1 } pt = $1; next }
         { if (in_stall) { d = pt - st; if (d > max) max = d; if (d >= 300) { n++; long += d } in_stall = 0 }
           pc = $2; pt = $1 }
         END { printf "{\"longest_ms\":%d,\"stalls_300ms\":%d,\"stalled_ms\":%d}", max, n, long }' "$1"
}

# ---- 5. the scenarios ----
declare -A rps ok p50 p90 p99 s201 s409 other cpu cs stall
run_scenario() {
    local name=$1 script url event sections rows seats out c0 c1 w0 w1 x0 x1
    case $name in
    bare) script=bare.lua url=http://127.0.0.1:$bare_port event=$stadium
        sections=$rand_sections rows=$rand_rows seats=$rand_seats ;;
    hold_random) script=hold_random.lua url=$root_url event=$stadium
        sections=$rand_sections rows=$rand_rows seats=$rand_seats ;;
    hold_hot) script=hold_hot.lua url=$root_url event=$hot sections=1 rows=$hot_rows seats=$hot_seats ;;
    *) ts_err "unknown scenario $name"; return 1 ;;
    esac
    metrics "$tmp/out/$name.metrics.before"
    if [ "${BENCH_PERF:-0}" = 1 ] && [ "$name" != bare ]; then
        perf record -F 499 -g -p "$serve_pid" -o "$tmp/out/$name.perf.data" >"$tmp/logs/perf.$name.log" 2>&1 &
        perf_pid=$!
        sleep 0.5
    fi
    ts_log "wrk $name: -t$threads -c$conns -d$duration $url"
    : >"$tmp/out/$name.timeline"
    if [ "$sample_ms" -gt 0 ]; then
        sampler "$tmp/out/$name.timeline" &
        sampler_pid=$!
    fi
    c0=$(cpu_snapshot)
    x0=$(ctxt)
    child_cpu w0
    out=$(THREADS=$threads CONNECTIONS=$conns EVENT=$event TOKENS=$tmp/out/tokens SECTIONS=$sections ROWS=$rows SEATS=$seats \
        wrk -t"$threads" -c"$conns" -d"$duration" --timeout "$timeout" --latency \
        -s "$bench/$script" "$url" 2>"$tmp/logs/wrk.$name.err")
    child_cpu w1
    x1=$(ctxt)
    c1=$(cpu_snapshot)
    if [ -n "$sampler_pid" ]; then
        kill "$sampler_pid" 2>/dev/null || true
        wait "$sampler_pid" 2>/dev/null || true
        sampler_pid=""
    fi
    if [ -n "$perf_pid" ]; then
        kill -INT "$perf_pid" 2>/dev/null || true
        wait "$perf_pid" 2>/dev/null || true
        perf_pid=""
        perf report -i "$tmp/out/$name.perf.data" --no-children -g none --sort dso,symbol \
            --stdio 2>/dev/null | grep -v '^#' | grep '%' | head -n 60 >"$tmp/out/$name.perf.txt" || true
        perf report -i "$tmp/out/$name.perf.data" --no-children -g none --sort dso --stdio 2>/dev/null |
            grep -v '^#' | grep '%' | head -n 20 >"$tmp/out/$name.perf.dso.txt" || true
    fi
    metrics "$tmp/out/$name.metrics.after"
    printf '%s\n' "$out" >"$tmp/out/$name.wrk.txt"
    printf '%s\n' "$out" | grep -v '^BENCH ' >&2
    [ ! -s "$tmp/logs/wrk.$name.err" ] || head -n 5 "$tmp/logs/wrk.$name.err" >&2
    local line
    line=$(printf '%s\n' "$out" | sed -n 's/^BENCH //p')
    [ -n "$line" ] || { ts_err "wrk printed no BENCH line for $name"; return 1; }
    rps[$name]=$(jq -r .rps <<<"$line")
    ok[$name]=$(jq -r .ok_per_s <<<"$line")
    p50[$name]=$(jq -r .p50_ms <<<"$line")
    p90[$name]=$(jq -r .p90_ms <<<"$line")
    p99[$name]=$(jq -r .p99_ms <<<"$line")
    s201[$name]=$(jq -r .s201 <<<"$line")
    s409[$name]=$(jq -r .s409 <<<"$line")
    other[$name]=$(jq -r .other <<<"$line")
    # CPU seconds per process over the scenario, and the machine's busy share.
    local cpu_json
    cpu_json=$(awk -v a="$c0" -v b="$c1" -v hz="$hz" -v n="$ncpu" -v w0="$w0" -v w1="$w1" '
        BEGIN { split(a, x, " "); split(b, y, " ");
          split("serve project nats postgres bare", k, " "); s = "{";
          t = 0; for (i = 1; i <= 5; i++) { d = (y[i] - x[i]) / hz; t += d; s = s sprintf("\"%s\":%.2f,", k[i], d) }
          busy = (y[6] - x[6]) / hz; irq = (y[7] - x[7]) / hz; t += w1 - w0 + irq;
          s = s sprintf("\"wrk\":%.2f,\"irq_softirq\":%.2f,\"other\":%.2f,\"machine_busy\":%.2f}",
                        w1 - w0, irq, busy - t, busy);
          print s }')
    cpu[$name]=$cpu_json
    cs[$name]=$((x1 - x0))
    # The commit batch sizes and the engine's hold latency (enqueue to
    # answer, measured by serve) of this scenario: the histograms' growth.
    metric_delta "$tmp/out/$name.metrics.before" "$tmp/out/$name.metrics.after" \
        turnstile_commit_batch_size >"$tmp/out/$name.batches"
    metric_delta "$tmp/out/$name.metrics.before" "$tmp/out/$name.metrics.after" \
        'turnstile_command_seconds_' | grep 'type="hold"' >"$tmp/out/$name.hold_seconds" || true
    local batch_json hold_json stall_json
    stall_json=$(stalls "$tmp/out/$name.timeline")
    stall[$name]=$stall_json
    batch_json=$(histogram_json <"$tmp/out/$name.batches")
    hold_json=$(histogram_json <"$tmp/out/$name.hold_seconds")
    jq -nc --argjson r "$line" --argjson cpu "$cpu_json" --argjson batch "$batch_json" \
        --argjson hold "$hold_json" --argjson ctxt $((x1 - x0)) --argjson stall "$stall_json" \
        --arg date "$date_utc" --arg commit "$commit" --arg proj "$proj_commit" \
        --arg cpu_model "$cpu_model" --argjson ncpu "$ncpu" --argjson ram "$ram_gib" \
        --argjson t "$threads" --argjson c "$conns" --arg d "$duration" \
        --arg nats "$nats_version" --arg pg "$pg_version" --arg wrkv "$wrk_version" \
        --arg pgfast "${BENCH_PG_FAST:-0}" --arg workers "${TURNSTILE_WORKERS:-16}" \
        --argjson users "$n_users" --argjson mpu "$max_per_user" --arg load "$load_before" \
        '$r + {date: $date, commit: $commit, projections_commit: $proj,
               machine: {nproc: $ncpu, cpu: $cpu_model, ram_gib: $ram},
               wrk: {threads: $t, connections: $c, duration: $d, version: $wrkv},
               versions: {nats_server: $nats, postgres: $pg}, pg_fast: ($pgfast == "1"),
               engine_workers: ($workers | tonumber), bench_users: $users, max_per_user: $mpu,
               loadavg_before: $load,
               cpu_seconds: $cpu, context_switches: $ctxt,
               sold_out: ($r.scenario != "bare" and $r.s409 > 0),
               commit_batch_size: $batch, engine_hold_seconds: $hold, commit_stalls: $stall}' \
        >>"$results"
}

for s in $scenarios; do
    run_scenario "$s"
done

# ---- 6. summary ----
bare_rps=${ok[bare]:-}
{
    echo
    echo "Turnstile hold benchmark — $date_utc, commit $commit (projections $proj_commit)"
    echo "machine: $ncpu cores, $cpu_model, $ram_gib GiB RAM; nats-server $nats_version, PostgreSQL $pg_version, wrk $wrk_version"
    echo "wrk -t$threads -c$conns -d$duration --latency (wrk, nats-server, PostgreSQL, serve and project share the machine)"
    echo "holds by $n_users users in turn (max_per_user $max_per_user)"
    echo "load average (1, 5, 15 min): $load_before before the run started, $(cut -d' ' -f1-3 /proc/loadavg) at its end"
    echo
    printf '%-12s %10s %10s %9s %9s %9s %9s %8s %7s %11s\n' scenario "req/s" "201/s" "p50 ms" "p90 ms" \
        "p99 ms" "201" "409" other "x bare"
    for s in $scenarios; do
        ratio=-
        [ -z "$bare_rps" ] || ratio=$(awk -v a="${ok[$s]}" -v b="$bare_rps" 'BEGIN { printf "%.3f", a / b }')
        printf '%-12s %10.0f %10.0f %9.2f %9.2f %9.2f %9d %8d %7d %11s\n' "$s" "${rps[$s]}" "${ok[$s]}" \
            "${p50[$s]}" "${p90[$s]}" "${p99[$s]}" "${s201[$s]}" "${s409[$s]}" "${other[$s]}" "$ratio"
    done
    for s in $scenarios; do
        [ "$s" = bare ] || [ "${s409[$s]}" = 0 ] ||
            echo "WARNING: $s answered ${s409[$s]} x 409: its 100,000 seats ran out (or repeated)" \
                "before the end, so its figures mix holds with cheap refusals; use a shorter BENCH_DURATION"
    done
    echo
    echo "CPU seconds per process during each scenario (machine capacity: $ncpu x duration;"
    echo "irq_softirq = interrupt time (mostly loopback TCP), charged to no process;"
    echo "other = the rest of the busy time: kernel threads, anything else running on the machine):"
    for s in $scenarios; do
        echo "  $s: $(jq -r 'to_entries | map("\(.key) \(.value)") | join(", ")' <<<"${cpu[$s]}")"
    done
    echo "context switches (whole machine) per request:"
    for s in $scenarios; do
        awk -v c="${cs[$s]}" -v n="${s201[$s]}" -v o="${s409[$s]}" -v x="${other[$s]}" -v s="$s" \
            'BEGIN { printf "  %s: %d in all, %.1f per request\n", s, c, c / (n + o + x) }'
    done
    echo "commit stalls (successive GET /metrics samples, ${sample_ms} ms apart or more, showing no new commit):"
    for s in $scenarios; do
        [ "$s" != bare ] || continue
        echo "  $s: $(jq -r '"longest \(.longest_ms) ms, \(.stalls_300ms) stalls >= 300 ms, \(.stalled_ms) ms in all"' <<<"${stall[$s]}")"
    done
    for s in $scenarios; do
        [ "$s" != bare ] || continue
        echo
        echo "commit batch sizes during $s (cumulative buckets, from GET /metrics):"
        sed 's/^/  /' "$tmp/out/$s.batches"
        echo "engine hold latency during $s (enqueue to answer, seconds; cumulative buckets):"
        sed 's/^/  /' "$tmp/out/$s.hold_seconds"
    done
    if [ "${BENCH_PERF:-0}" = 1 ]; then
        for s in $scenarios; do
            [ -s "$tmp/out/$s.perf.dso.txt" ] || continue
            echo
            echo "perf, turnstile serve during $s, by DSO:"
            sed 's/^/  /' "$tmp/out/$s.perf.dso.txt"
        done
    fi
    echo
    echo "results appended to $results"
} | tee "$tmp/out/summary.txt"
