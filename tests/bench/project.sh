#!/usr/bin/env bash
# tests/bench/project.sh — the projection-fold benchmark of DESIGN.md
# ("Performance targets": fold >= 50,000 events/s into PostgreSQL), measured
# on the live projector, `turnstile project`, in its two catch-up paths:
#
#   - "backlog": a read model folded to the middle of the log, and the
#     projector started on the other half (after downtime): folded in
#     transactions of up to 200,000 commits, the holds carried across each
#     one's fetches (projector.c, "Backlog");
#   - "empty": an empty schema and the whole log: a backlog past 100,000
#     commits and twice the model is bootstrapped by a build of the whole
#     log swapped in (projector.c, "Bootstrap"; build.c).
#
# In one command:
#   1. builds the Release tree if needed (turnstile, ts_fill);
#   2. starts nats-server (JetStream) and PostgreSQL (durable settings, as in
#      ops/up) on free ports in a temp dir;
#   3. fills the stream with BENCH_EVENTS / 2 events with tests/tools/ts_fill
#      (the log of replay.sh: one venue, 20 published events on it, then
#      commits of 1..4 holds, releases and expiries on random sections),
#      folds them with `turnstile project` (not timed), stops it, and fills
#      the other half (another venue and 20 more events, --seed 2);
#   4. "backlog": settles the model as a model folded long ago is (VACUUM
#      (ANALYZE), CHECKPOINT: not timed), then times `turnstile project`
#      from its start until the catalog checkpoint reaches the head of the
#      log (read every 0.1 s by one psql \watch session);
#   5. "empty", BENCH_RUNS times: drops the read model (schema catalog),
#      CHECKPOINTs and times `turnstile project` from an empty schema to
#      the head;
#   6. prints a summary and appends one JSON line per timed run to the
#      results file (events/s, CPU seconds of project, PostgreSQL and
#      nats-server, the machine, the date, the commit); stops everything and
#      removes the temp dir (trap).
#
# Settings (environment):
#   BENCH_EVENTS       events in the whole log           1000000
#   BENCH_RUNS         timed runs from an empty schema   2
#   BENCH_SCENARIOS    which ones                        "backlog empty"
#   BENCH_BATCH        turnstile project --batch N       (the projector's default)
#   BENCH_CATCHUP      turnstile project --catchup N     (the projector's default)
#   BENCH_BUILD_DIR    Release build tree                <repo>/build
#   BENCH_RESULTS      JSON lines appended per run       <repo>/tests/bench/project-results.jsonl
#   BENCH_PG_FAST      1: PostgreSQL with fsync off      0 (durable, like ops/up)
#   BENCH_KEEP_DIR     copy the logs here before cleanup
#   TMPDIR             where the temp dir goes
set -eu -o pipefail
cd "$(dirname "$0")/../.."
. ops/lib.sh
. tests/bench/lib.sh # bench_stack_start, bench_machine, bench_commit, ticks, pg_ticks
root=$TS_ROOT
bench=$root/tests/bench

events=${BENCH_EVENTS:-1000000}
runs=${BENCH_RUNS:-2}
scenarios=${BENCH_SCENARIOS:-backlog empty}
batch=${BENCH_BATCH:-}
catchup=${BENCH_CATCHUP:-}
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
tmp=$(bench_mktemp ts-project-bench)
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

bench_stack_start

# ---- 3. the log, in two halves ----
half=$((events / 2))
ts_log "ts_fill: $half events"
fill1=$("$fill_bin" --nats "$TURNSTILE_NATS_URL" --events "$half" --seed 1)
ts_log "ts_fill: $fill1"
# ---- machine and build ----
bench_machine
commit=$(bench_commit)

checkpoint() {
    ts_psql "$pg_port" -d turnstile -tAc \
        "SELECT coalesce((SELECT last_seq FROM catalog.checkpoints WHERE projection = 'catalog'), 0)" \
        2>/dev/null || echo 0
}

# watch_checkpoint TARGET PID: one psql session reads the checkpoint every
# 0.1 s (\watch) until it reaches TARGET, PID exits, or the query fails
# (no schema yet); prints the last value read. One connection instead of a
# psql started per poll, which cost the machine more CPU than the poll.
watch_checkpoint() {
    local target=$1 pid=$2 line last=0
    exec {wfd}< <(printf '%s\n' \
        "SELECT coalesce((SELECT last_seq FROM catalog.checkpoints WHERE projection = 'catalog'), 0)" \
        '\watch 0.1' | ts_psql "$pg_port" -d turnstile -tA 2>/dev/null)
    local wpid=$!
    while read -r -u "$wfd" line; do
        [ -n "$line" ] || continue
        last=$line
        [ "$last" -lt "$target" ] && ts_pid_alive "$pid" || break
    done
    kill "$wpid" 2>/dev/null || true
    exec {wfd}<&-
    echo "$last"
}

# project_until NAME SEQ: runs `turnstile project` from now until the
# catalog checkpoint reaches SEQ, then stops it; sets wall and cpu.
project_until() {
    local name=$1 target=$2 t0 t1 p0 p1 n0 n1 j1 b0 b1 pid seq=0
    load0=$(cut -d' ' -f1 /proc/loadavg)
    b0=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat)
    p0=$(pg_ticks)
    n0=$(ticks "$(cat "$tmp/run/nats.pid")")
    t0=$(date +%s.%N)
    ts_spawn "$tmp/run/project.pid" "$tmp/logs/project.$name.log" "$bin" project \
        ${batch:+--batch "$batch"} ${catchup:+--catchup "$catchup"}
    pid=$(cat "$tmp/run/project.pid")
    while [ "$seq" -lt "$target" ]; do
        ts_pid_alive "$pid" || { ts_err "turnstile project exited; see its log:"; tail -n 20 "$tmp/logs/project.$name.log" >&2; exit 1; }
        seq=$(watch_checkpoint "$target" "$pid")
        [ "$seq" -ge "$target" ] || sleep 0.25
    done
    t1=$(date +%s.%N)
    load1=$(cut -d' ' -f1 /proc/loadavg)
    b1=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat)
    j1=$(ticks "$pid")
    p1=$(pg_ticks)
    n1=$(ticks "$(cat "$tmp/run/nats.pid")")
    ts_stop_pidfile "$tmp/run/project.pid" turnstile 20
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    # machine_busy: every CPU's busy time over the run (2 cores: at most
    # 2 x wall), ours and anyone else's.
    cpu=$(jq -nc --argjson j "$j1" --argjson pg "$((p1 - p0))" --argjson nats "$((n1 - n0))" \
        --argjson busy "$((b1 - b0))" --argjson hz "$hz" \
        '{project: ($j / $hz), postgres: ($pg / $hz), nats_server: ($nats / $hz),
          machine_busy: ($busy / $hz)}')
}

# record NAME EVENTS FROM TO: appends the JSON line of a timed run.
record() {
    local name=$1 n=$2 from=$3 to=$4 path
    path=$(grep -o 'bootstrap: [^(]*swapped in' "$tmp/logs/project.$name.log" >/dev/null &&
        echo bootstrap || echo transactions)
    ts_log "$name: seq $from..$to ($n events) in ${wall} s ($path); cpu $cpu"
    jq -nc --arg name "$name" --argjson wall "$wall" --argjson cpu "$cpu" --argjson fill "$fill" \
        --argjson events "$n" --argjson from "$from" --argjson to "$to" --arg path "$path" \
        --arg batch "${batch:-default}" --arg catchup "${catchup:-default}" \
        --arg date "$date_utc" --arg commit "$commit" \
        --arg cpu_model "$cpu_model" --argjson ncpu "$ncpu" --argjson ram "$ram_gib" \
        --arg nats "$nats_version" --arg pg "$pg_version" --arg pgfast "${BENCH_PG_FAST:-0}" \
        --argjson l0 "$load0" --argjson l1 "$load1" \
        '{run: $name, path: $path, loadavg_1min: {before: $l0, after: $l1}, wall_seconds: $wall, events: $events, from_seq: $from, to_seq: $to,
          events_per_s: ($events / $wall | floor), batch: $batch, catchup: $catchup,
          cpu_seconds: $cpu, log: $fill, date: $date, commit: $commit, pg_fast: ($pgfast == "1"),
          machine: {nproc: $ncpu, cpu: $cpu_model, ram_gib: $ram},
          versions: {nats_server: $nats, postgres: $pg}}' | tee -a "$results" >"$tmp/logs/result.$name"
}

# ---- 4. the second half as a backlog ----
half_seq=$(jq -r .last_seq <<<"$fill1")
ts_log "folding the first half (to seq $half_seq, not timed)"
project_until prepare "$half_seq"
# A model folded long before the downtime has been vacuumed and its pages
# written out; this one was folded a moment ago, and autovacuum (500,000
# fresh bookings) and the checkpointer would do that work during the timed
# run, their CPU counted as PostgreSQL's. So settle it first.
ts_log "settling the model: VACUUM (ANALYZE), CHECKPOINT (not timed)"
ts_psql "$pg_port" -d turnstile -qc "VACUUM (ANALYZE)" -c "CHECKPOINT" >/dev/null
ts_log "ts_fill: $half more events"
fill2=$("$fill_bin" --nats "$TURNSTILE_NATS_URL" --events "$half" --seed 2)
ts_log "ts_fill: $fill2"
head_seq=$(jq -r .last_seq <<<"$fill2")
fill=$(jq -nc --argjson a "$fill1" --argjson b "$fill2" '{first: $a, second: $b}')
all_events=$(($(jq -r .events <<<"$fill1") + $(jq -r .events <<<"$fill2")))
for sc in $scenarios; do
    case $sc in
    backlog)
        from=$(checkpoint)
        ts_log "backlog: turnstile project from seq $from to $head_seq"
        project_until backlog "$head_seq"
        record backlog "$(jq -r .events <<<"$fill2")" "$from" "$head_seq"
        ;;
    empty)
        for i in $(seq "$runs"); do
            ts_log "empty $i of $runs: turnstile project from an empty schema to seq $head_seq"
            # CHECKPOINT: the run before left dirty pages the checkpointer
            # would write during this one.
            ts_psql "$pg_port" -d turnstile -qc "DROP SCHEMA IF EXISTS catalog CASCADE" \
                -c "CHECKPOINT" >/dev/null
            project_until "empty$i" "$head_seq"
            record "empty$i" "$all_events" 0 "$head_seq"
        done
        ;;
    *) ts_err "unknown scenario $sc"; exit 1 ;;
    esac
done

# ---- 6. summary ----
{
    echo
    echo "Turnstile projector catch-up benchmark — $date_utc, commit $commit"
    echo "machine: $ncpu cores, $cpu_model, $ram_gib GiB RAM; nats-server $nats_version, PostgreSQL $pg_version$([ -z "$pg_flag" ] || echo ', fsync off')"
    echo "log: $fill"
    echo
    printf '%-8s %-9s %9s %9s %11s %12s %11s %9s\n' run path "wall s" "events" "events/s" \
        "project cpu" "postgres" "nats"
    for f in "$tmp"/logs/result.*; do
        jq -r '[.run, .path, .wall_seconds, .events, .events_per_s, .cpu_seconds.project,
                .cpu_seconds.postgres, .cpu_seconds.nats_server] | @tsv' "$f" |
            awk -F'\t' '{ printf "%-8s %-9s %9.2f %9d %11d %12.2f %11.2f %9.2f\n", $1, $2, $3, $4, $5, $6, $7, $8 }'
    done
    echo
    echo "results appended to $results"
} | tee "$tmp/logs/summary.txt"
