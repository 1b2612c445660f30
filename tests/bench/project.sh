#!/usr/bin/env bash
# tests/bench/project.sh — the projection-fold benchmark of DESIGN.md
# ("Performance targets": fold >= 50,000 events/s into PostgreSQL), measured
# on the live projector catching up, in one command:
#
#   1. builds the Release tree if needed (turnstile, ts_fill);
#   2. starts nats-server (JetStream) and PostgreSQL (durable settings, as in
#      ops/up) on free ports in a temp dir;
#   3. fills the stream with BENCH_EVENTS events with tests/tools/ts_fill (the
#      log of replay.sh: one venue, 20 published events on it, then commits
#      of 1..4 holds, releases and expiries on random sections);
#   4. BENCH_RUNS times: drops the read model (schema catalog), starts
#      `turnstile project` and times it from its start until the catalog
#      checkpoint reaches the head of the log (polled every 0.25 s), then
#      stops it. Each run is a projector starting from an empty schema with
#      the whole log as its backlog;
#   5. prints a summary and appends one JSON line per run to the results file
#      (events/s, CPU seconds of project, PostgreSQL and nats-server, the
#      machine, the date, the commit); stops everything and removes the temp
#      dir (trap).
#
# Settings (environment):
#   BENCH_EVENTS       events in the log                 1000000
#   BENCH_RUNS         timed catch-ups                   3
#   BENCH_BATCH        turnstile project --batch N       (the projector's default)
#   BENCH_BUILD_DIR    Release build tree                <repo>/build
#   BENCH_RESULTS      JSON lines appended per run       <repo>/tests/bench/project-results.jsonl
#   BENCH_PG_FAST      1: PostgreSQL with fsync off      0 (durable, like ops/up)
#   BENCH_KEEP_DIR     copy the logs here before cleanup
#   TMPDIR             where the temp dir goes
set -eu -o pipefail
cd "$(dirname "$0")/../.."
. ops/lib.sh
root=$TS_ROOT
bench=$root/tests/bench

events=${BENCH_EVENTS:-1000000}
runs=${BENCH_RUNS:-3}
batch=${BENCH_BATCH:-}
build=${BENCH_BUILD_DIR:-$root/build}
results=${BENCH_RESULTS:-$bench/project-results.jsonl}
keep=${BENCH_KEEP_DIR:-}
for tool in nats-server jq python3; do
    command -v "$tool" >/dev/null || { ts_err "$tool is missing (ops/lib.sh ts_install_deps)"; exit 1; }
done

# ---- 1. build (Release) ----
if [ "$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null)" != Release ]; then
    ts_log "configuring $build (Release)"
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
ts_log "building $build"
cmake --build "$build" -j"$(nproc)" --target turnstile ts_fill >/dev/null
bin=$build/cli/turnstile
fill_bin=$build/tests/tools/ts_fill

# ---- 2. the stack, in a temp dir removed on exit ----
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ts-project-bench.XXXXXX")
chmod 755 "$tmp" # the postgres account walks to its cluster under it
cleanup() {
    local rc=$?
    set +e
    ts_stop_pidfile "$tmp/run/project.pid" turnstile 20
    ts_stop_pidfile "$tmp/run/nats.pid" nats-server 20
    ts_pg_destroy "$tmp/pg"
    if [ -n "$keep" ]; then
        mkdir -p "$keep" && cp -r "$tmp/logs" "$keep/" 2>/dev/null
        ts_log "logs kept in $keep"
    fi
    rm -rf "$tmp"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$tmp/run" "$tmp/logs"

nats_port=$(ts_free_port)
pg_port=$(ts_free_port)
pg_flag=""
[ "${BENCH_PG_FAST:-0}" != 1 ] || pg_flag=fast
ts_start_nats "$nats_port" "$tmp/nats" "$tmp/logs/nats.log" "$tmp/run/nats.pid"
ts_start_pg "$pg_port" "$tmp/pg" "$tmp/logs/postgres.log" $pg_flag
ts_pg_createdb "$pg_port" turnstile
export TURNSTILE_NATS_URL=nats://127.0.0.1:$nats_port
export TURNSTILE_PG_URL=postgresql://postgres@127.0.0.1:$pg_port/turnstile

# ---- 3. the log ----
ts_log "ts_fill: $events events"
fill=$("$fill_bin" --nats "$TURNSTILE_NATS_URL" --events "$events")
ts_log "ts_fill: $fill"
head_seq=$(jq -r .last_seq <<<"$fill")
log_events=$(jq -r .events <<<"$fill")

# ---- machine and build ----
cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
mem_kb=$(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo)
ram_gib=$(awk -v k="$mem_kb" 'BEGIN { printf "%.1f", k / 1048576 }')
ncpu=$(nproc)
commit=$(git -C "$root" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
# The results files grow with every run: they do not make a tree dirty.
git -C "$root" diff --quiet HEAD -- . ':(exclude)tests/bench/*.jsonl' 2>/dev/null ||
    commit="$commit+dirty"
date_utc=$(date -u +%FT%TZ)
nats_version=$(nats-server --version 2>/dev/null | awk '{print $NF}')
pg_version=$("$(ts_pg_bindir)/postgres" --version | awk '{print $3}')

. tests/bench/lib.sh # ticks, pg_pids, hz
# The cluster's CPU, living backends and reaped ones (the postmaster's
# cutime/cstime), as in replay.sh.
pg_ticks() {
    local p
    for p in $(pg_pids); do cat "/proc/$p/stat" 2>/dev/null || true; done |
        awk '{ s += $14 + $15 + $16 + $17 } END { print s + 0 }'
}
checkpoint() {
    ts_psql "$pg_port" -d turnstile -tAc \
        "SELECT coalesce((SELECT last_seq FROM catalog.checkpoints WHERE projection = 'catalog'), 0)" \
        2>/dev/null || echo 0
}

# catch_up NAME: a fresh read model, `turnstile project` from its start to
# the head of the log; appends its JSON line.
catch_up() {
    local name=$1 t0 t1 p0 p1 n0 n1 j0 j1 pid wall seq=0 cpu
    ts_psql "$pg_port" -d turnstile -qc "DROP SCHEMA IF EXISTS catalog CASCADE" >/dev/null
    p0=$(pg_ticks)
    n0=$(ticks "$(cat "$tmp/run/nats.pid")")
    t0=$(date +%s.%N)
    ts_spawn "$tmp/run/project.pid" "$tmp/logs/project.$name.log" "$bin" project ${batch:+--batch "$batch"}
    pid=$(cat "$tmp/run/project.pid")
    while [ "$seq" -lt "$head_seq" ]; do
        sleep 0.25
        ts_pid_alive "$pid" || { ts_err "turnstile project exited; see its log:"; tail -n 20 "$tmp/logs/project.$name.log" >&2; exit 1; }
        seq=$(checkpoint)
    done
    t1=$(date +%s.%N)
    j1=$(ticks "$pid")
    p1=$(pg_ticks)
    n1=$(ticks "$(cat "$tmp/run/nats.pid")")
    ts_stop_pidfile "$tmp/run/project.pid" turnstile 20
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    cpu=$(jq -nc --argjson j "$j1" --argjson pg "$((p1 - p0))" --argjson nats "$((n1 - n0))" \
        --argjson hz "$hz" '{project: ($j / $hz), postgres: ($pg / $hz), nats_server: ($nats / $hz)}')
    ts_log "$name: head $head_seq reached in ${wall} s; cpu $cpu"
    jq -nc --arg name "$name" --argjson wall "$wall" --argjson cpu "$cpu" --argjson fill "$fill" \
        --argjson events "$log_events" --arg batch "${batch:-default}" \
        --arg date "$date_utc" --arg commit "$commit" \
        --arg cpu_model "$cpu_model" --argjson ncpu "$ncpu" --argjson ram "$ram_gib" \
        --arg nats "$nats_version" --arg pg "$pg_version" --arg pgfast "${BENCH_PG_FAST:-0}" \
        '{run: $name, wall_seconds: $wall, events: $events, commits: $fill.commits,
          events_per_s: ($events / $wall | floor), batch: $batch, cpu_seconds: $cpu, log: $fill,
          date: $date, commit: $commit, pg_fast: ($pgfast == "1"),
          machine: {nproc: $ncpu, cpu: $cpu_model, ram_gib: $ram},
          versions: {nats_server: $nats, postgres: $pg}}' | tee -a "$results" >"$tmp/logs/result.$name"
}

# ---- 4. the catch-ups ----
for i in $(seq "$runs"); do
    ts_log "catch-up $i of $runs: turnstile project from an empty schema to seq $head_seq"
    catch_up "run$i"
done

# ---- 5. summary ----
{
    echo
    echo "Turnstile projector catch-up benchmark — $date_utc, commit $commit"
    echo "machine: $ncpu cores, $cpu_model, $ram_gib GiB RAM; nats-server $nats_version, PostgreSQL $pg_version$([ -z "$pg_flag" ] || echo ', fsync off')"
    echo "log: $fill"
    echo
    printf '%-6s %9s %9s %11s %12s %11s %9s\n' run "wall s" "events" "events/s" "project cpu" \
        "postgres" "nats"
    for f in "$tmp"/logs/result.*; do
        jq -r '[.run, .wall_seconds, .events, .events_per_s, .cpu_seconds.project,
                .cpu_seconds.postgres, .cpu_seconds.nats_server] | @tsv' "$f" |
            awk -F'\t' '{ printf "%-6s %9.2f %9d %11d %12.2f %11.2f %9.2f\n", $1, $2, $3, $4, $5, $6, $7 }'
    done
    echo
    echo "results appended to $results"
} | tee "$tmp/logs/summary.txt"
