# tests/bench/lib.sh — what the benchmark scripts share: the Release build,
# the stack's start-up, the machine's description and CPU accounting.
# Sourced after ops/lib.sh (ts_*); it only defines functions (and hz), so it
# may be sourced at any point. The functions use the caller's $tmp (the run's
# temp dir, with run/ and logs/) and $bin (turnstile) where they say so.

hz=$(getconf CLK_TCK)

# ---- build and start-up ----

# bench_build DIR TARGET...: configures DIR as a Release tree unless it is
# one, then builds the targets.
bench_build() {
    local build=$1
    shift
    if [ "$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null)" != Release ]; then
        ts_log "configuring $build (Release)"
        cmake -S "$TS_ROOT" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
    fi
    ts_log "building $build"
    cmake --build "$build" -j"$(nproc)" --target "$@" >/dev/null
}

# bench_mktemp NAME: prints a new temp dir for the run (under TMPDIR), open
# to the postgres account, which walks to its cluster under it.
bench_mktemp() {
    local dir
    dir=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
    chmod 755 "$dir"
    echo "$dir"
}

# bench_stack_start: nats-server (JetStream) and PostgreSQL (durable, as in
# ops/up, or fsync off with BENCH_PG_FAST=1) on free ports under $tmp, and
# the database turnstile. Sets nats_port, pg_port and pg_flag ("fast" or
# ""); exports TURNSTILE_NATS_URL and TURNSTILE_PG_URL.
bench_stack_start() {
    nats_port=$(ts_free_port)
    pg_port=$(ts_free_port)
    pg_flag=""
    [ "${BENCH_PG_FAST:-0}" != 1 ] || pg_flag=fast
    ts_start_nats "$nats_port" "$tmp/nats" "$tmp/logs/nats.log" "$tmp/run/nats.pid"
    ts_start_pg "$pg_port" "$tmp/pg" "$tmp/logs/postgres.log" $pg_flag
    ts_pg_createdb "$pg_port" turnstile
    export TURNSTILE_NATS_URL=nats://127.0.0.1:$nats_port
    export TURNSTILE_PG_URL=postgresql://postgres@127.0.0.1:$pg_port/turnstile
}

# bench_serve_start ADMIN_EMAIL ADMIN_PASSWORD: `$bin serve` on a free port
# of 127.0.0.1, its data in $tmp/data, a fresh JWT secret, the given admin;
# waits up to 60 s for /readyz. Sets http_port, root_url, api (its
# /api/v1) and serve_pid; exits with the end of serve's log when it does
# not get ready.
bench_serve_start() {
    local i
    http_port=$(ts_free_port)
    export TURNSTILE_DATA_DIR=$tmp/data
    export TURNSTILE_HTTP_PORT=$http_port
    export TURNSTILE_BIND=127.0.0.1
    export TURNSTILE_JWT_SECRET=bench-secret-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
    root_url=http://127.0.0.1:$http_port
    api=$root_url/api/v1
    ts_log "starting turnstile serve on $root_url"
    ts_spawn "$tmp/run/serve.pid" "$tmp/logs/serve.log" \
        env TURNSTILE_ADMIN_EMAIL="$1" TURNSTILE_ADMIN_PASSWORD="$2" "$bin" serve
    serve_pid=$(cat "$tmp/run/serve.pid")
    for i in $(seq 120); do
        curl -fsS -o /dev/null --max-time 2 "$root_url/readyz" 2>/dev/null && break
        if [ "$i" -eq 120 ] || ! ts_pid_alive "$serve_pid"; then
            ts_err "turnstile serve is not ready; last lines of its log:"
            tail -n 30 "$tmp/logs/serve.log" >&2
            exit 1
        fi
        sleep 0.5
    done
}

# bench_teardown WHAT DIR...: the end of a script's cleanup trap, once it has
# stopped its own processes: stops nats-server, removes the PostgreSQL
# cluster, copies the DIRs of $tmp to $keep (BENCH_KEEP_DIR) when that is
# set, saying "WHAT kept in $keep", and removes $tmp.
bench_teardown() {
    local what=$1 d dirs=()
    shift
    ts_stop_pidfile "$tmp/run/nats.pid" nats-server 20
    ts_pg_destroy "$tmp/pg"
    if [ -n "$keep" ]; then
        for d in "$@"; do dirs+=("$tmp/$d"); done
        mkdir -p "$keep" && cp -r "${dirs[@]}" "$keep/" 2>/dev/null
        ts_log "$what kept in $keep"
    fi
    rm -rf "$tmp"
}

# bench_api METHOD PATH [JSON]: calls the REST API ($api, as set by
# bench_serve_start) as $token when that is set; prints the body, or fails
# saying why on a non-2xx answer.
bench_api() {
    local out code args=(-sS -o - -w '\n%{http_code}' -X "$1")
    [ -z "${token:-}" ] || args+=(-H "Authorization: Bearer $token")
    [ -z "${3:-}" ] || args+=(-H 'Content-Type: application/json' --data-binary "$3")
    out=$(curl "${args[@]}" "$api$2") || return 1
    code=${out##*$'\n'}
    out=${out%$'\n'*}
    case $code in
    2??) printf '%s\n' "$out" ;;
    *) ts_err "$1 $2 answered $code: $out" && return 1 ;;
    esac
}

# ---- what a result records of the run ----

# bench_machine: sets cpu_model, ram_gib, ncpu, date_utc, nats_version and
# pg_version.
bench_machine() {
    local mem_kb
    cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
    mem_kb=$(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo)
    ram_gib=$(awk -v k="$mem_kb" 'BEGIN { printf "%.1f", k / 1048576 }')
    ncpu=$(nproc)
    date_utc=$(date -u +%FT%TZ)
    nats_version=$(nats-server --version 2>/dev/null | awk '{print $NF}')
    pg_version=$("$(ts_pg_bindir)/postgres" --version | awk '{print $3}')
}

# bench_commit [PATHSPEC...]: prints HEAD's short hash, with "+dirty" when the
# tree differs from it. The results files grow with every run: they do not
# make a tree dirty, nor do the extra PATHSPECs (e.g. ':(exclude)dir').
bench_commit() {
    local commit
    commit=$(git -C "$TS_ROOT" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
    git -C "$TS_ROOT" diff --quiet HEAD -- . ':(exclude)tests/bench/*.jsonl' "$@" 2>/dev/null ||
        commit="$commit+dirty"
    echo "$commit"
}

# ---- CPU accounting ----

# ticks PID...: utime+stime of the given processes, in clock ticks.
ticks() {
    local p sum=0 f
    for p in "$@"; do
        f=$(cat "/proc/$p/stat" 2>/dev/null) || continue
        f=${f##*) }
        set -- $f
        sum=$((sum + ${12} + ${13}))
    done
    echo $sum
}

# pg_pids: the postmaster of the cluster in $tmp/pg and its children.
pg_pids() {
    local pm
    pm=$(head -n 1 "$(readlink -f "$tmp/pg")/postmaster.pid" 2>/dev/null) || return 0
    echo "$pm" $(ps -o pid= --ppid "$pm")
}

# pg_ticks: the cluster's CPU in ticks, living backends and reaped ones.
# Backends come and go (a rebuild's own connection ends with it): the
# postmaster's cutime/cstime hold those it has reaped.
pg_ticks() {
    local p
    for p in $(pg_pids); do cat "/proc/$p/stat" 2>/dev/null || true; done |
        awk '{ s += $14 + $15 + $16 + $17 } END { print s + 0 }'
}

# child_cpu VAR: sets VAR to the CPU seconds (user + sys) of this shell's
# waited-for children (e.g. wrk). `times` must run in this shell: in a
# subshell it reports the subshell's own, hence a file in $tmp.
child_cpu() {
    times >"$tmp/times"
    printf -v "$1" '%s' "$(tail -n 1 "$tmp/times" | awk '{ t = 0; for (i = 1; i <= 2; i++) {
        split($i, a, "m"); sub(/s$/, "", a[2]); t += a[1] * 60 + a[2] } printf "%.2f", t }')"
}
