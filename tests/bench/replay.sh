#!/usr/bin/env bash
# tests/bench/replay.sh — the rebuild benchmark of DESIGN.md ("Performance
# targets": a 1 M-event rebuild of the read models in <= 30 s), in one
# command:
#
#   1. builds the Release tree if needed (turnstile, ts_fill);
#   2. starts nats-server (JetStream) and PostgreSQL (durable settings, as in
#      ops/up) on free ports in a temp dir;
#   3. fills the stream with BENCH_EVENTS events with tests/tools/ts_fill: one
#      venue of 12 seated sections (40 rows x 50 seats) and a standing one,
#      20 published events on it (480,000 seats), then commits of 1..4 holds,
#      releases and expiries on random sections until the log holds
#      BENCH_EVENTS events (straight to JetStream, through the real codec);
#   4. runs `turnstile replay --projection catalog` once to make the live
#      model (the "cold" run: there is nothing to swap out), starts
#      `turnstile project` on it (caught up, idle), then times BENCH_RUNS
#      rebuilds of the live model (bulk, catch-up, finish, swap) while the
#      projector runs;
#   5. prints a summary and appends one JSON line per run to the results file;
#      stops everything and removes the temp dir (trap).
#
# Settings (environment):
#   BENCH_EVENTS       events in the log                 1000000
#   BENCH_RUNS         timed rebuilds                    3
#   BENCH_BUILD_DIR    Release build tree                <repo>/build
#   BENCH_RESULTS      JSON lines appended per run       <repo>/tests/bench/replay-results.jsonl
#   BENCH_PG_FAST      1: PostgreSQL with fsync off      0 (durable, like ops/up)
#   BENCH_KEEP_DIR     copy the logs here before cleanup
#   TMPDIR             where the temp dir goes
set -eu -o pipefail
cd "$(dirname "$0")/../.."
. ops/lib.sh
. tests/bench/lib.sh # bench_*, ticks, pg_ticks, hz
root=$TS_ROOT
bench=$root/tests/bench

events=${BENCH_EVENTS:-1000000}
runs=${BENCH_RUNS:-3}
build=${BENCH_BUILD_DIR:-$root/build}
results=${BENCH_RESULTS:-$bench/replay-results.jsonl}
keep=${BENCH_KEEP_DIR:-}
for tool in nats-server jq python3; do
    command -v "$tool" >/dev/null || { ts_err "$tool is missing (ops/lib.sh ts_install_deps)"; exit 1; }
done

# ---- 1. build (Release) ----
bench_build "$build" turnstile ts_fill
bin=$build/cli/turnstile
fill_bin=$build/tests/tools/ts_fill

# ---- 2. the stack, in a temp dir removed on exit ----
tmp=$(bench_mktemp ts-replay-bench)
cleanup() {
    local rc=$?
    set +e
    ts_stop_pidfile "$tmp/run/project.pid" turnstile 20
    bench_teardown logs logs
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$tmp/run" "$tmp/logs"

bench_stack_start # TURNSTILE_NATS_URL, TURNSTILE_PG_URL, pg_flag

# ---- 3. the log ----
ts_log "ts_fill: $events events"
fill=$("$fill_bin" --nats "$TURNSTILE_NATS_URL" --events "$events")
ts_log "ts_fill: $fill"

# ---- machine and build ----
bench_machine # cpu_model, ram_gib, ncpu, date_utc, nats_version, pg_version
commit=$(bench_commit)

# CPU seconds (user + system) of processes (ticks), and of the postgres
# cluster, its reaped backends included (pg_ticks): both in lib.sh.

# replay NAME: one `turnstile replay`, timed; appends its JSON line.
replay() {
    local name=$1 t0 t1 p0 p1 n0 n1 out wall cpu
    p0=$(pg_ticks)
    n0=$(ticks "$(cat "$tmp/run/nats.pid")")
    t0=$(date +%s.%N)
    out=$(/usr/bin/time -f '%U %S %M' -o "$tmp/logs/time.$name" \
        "$bin" replay --projection catalog 2>"$tmp/logs/replay.$name.log")
    t1=$(date +%s.%N)
    # The rebuild's backends have exited; their CPU reaches the postmaster's
    # cutime only once it has reaped them.
    sleep 1
    p1=$(pg_ticks)
    n1=$(ticks "$(cat "$tmp/run/nats.pid")")
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    read -r u s rss <"$tmp/logs/time.$name"
    cpu=$(jq -nc --argjson u "$u" --argjson s "$s" --argjson pg "$(((p1 - p0)))" \
        --argjson nats "$(((n1 - n0)))" --argjson hz "$hz" --argjson rss "$rss" \
        '{replay: ($u + $s), postgres: ($pg / $hz), nats_server: ($nats / $hz),
          replay_max_rss_mib: ($rss / 1024 | floor)}')
    ts_log "$name: ${wall} s: $out"
    jq -nc --arg name "$name" --argjson r "$out" --argjson wall "$wall" --argjson cpu "$cpu" \
        --argjson fill "$fill" --arg date "$date_utc" --arg commit "$commit" \
        --arg cpu_model "$cpu_model" --argjson ncpu "$ncpu" --argjson ram "$ram_gib" \
        --arg nats "$nats_version" --arg pg "$pg_version" --arg pgfast "${BENCH_PG_FAST:-0}" \
        '{run: $name, wall_seconds: $wall, replay: $r, cpu_seconds: $cpu, log: $fill,
          date: $date, commit: $commit, pg_fast: ($pgfast == "1"),
          machine: {nproc: $ncpu, cpu: $cpu_model, ram_gib: $ram},
          versions: {nats_server: $nats, postgres: $pg}}' | tee -a "$results" >"$tmp/logs/result.$name"
}

# ---- 4. the rebuilds ----
ts_log "cold build (no live model yet)"
replay cold
ts_log "starting turnstile project on the live model"
ts_spawn "$tmp/run/project.pid" "$tmp/logs/project.log" "$bin" project
sleep 2
for i in $(seq "$runs"); do
    ts_log "rebuild $i of $runs (the projector runs)"
    replay "rebuild$i"
done

# ---- 5. summary ----
{
    echo
    echo "Turnstile rebuild benchmark — $date_utc, commit $commit"
    echo "machine: $ncpu cores, $cpu_model, $ram_gib GiB RAM; nats-server $nats_version, PostgreSQL $pg_version$([ -z "$pg_flag" ] || echo ', fsync off')"
    echo "log: $fill"
    echo
    printf '%-10s %9s %9s %11s %8s %11s %11s %9s %9s\n' run "wall s" "events" "events/s" "swaps" \
        "replay cpu" "postgres" "nats" "rss MiB"
    for f in "$tmp"/logs/result.*; do
        jq -r '[.run, .wall_seconds, .replay.events, (.replay.events / .wall_seconds | floor),
                (.replay.swap_attempts // "-"), .cpu_seconds.replay, .cpu_seconds.postgres,
                .cpu_seconds.nats_server, .cpu_seconds.replay_max_rss_mib] | @tsv' "$f" |
            awk -F'\t' '{ printf "%-10s %9.2f %9d %11d %8s %11.2f %11.2f %9.2f %9d\n", $1, $2, $3, $4, $5, $6, $7, $8, $9 }'
    done
    echo
    echo "results appended to $results"
} | tee "$tmp/logs/summary.txt"
