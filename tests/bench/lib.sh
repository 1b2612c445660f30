# tests/bench/lib.sh — CPU accounting shared by the benchmark scripts
# (sourced by run.sh and replay.sh, after ops/lib.sh; uses their $tmp).

hz=$(getconf CLK_TCK)

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
