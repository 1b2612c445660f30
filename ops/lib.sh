# ops/lib.sh — shell functions shared by ops/up, ops/down, ops/test and the
# Python integration harness (tests/integration/harness.py sources this file to
# start and remove its own PostgreSQL cluster). Source it from bash:
#
#     . ops/lib.sh
#
# Every function prints what it does on stderr, one short line each, and
# returns non-zero (never exits) on failure, so callers decide what a failure
# means. Ports are always on the loopback interface.
#
# PostgreSQL and root. The postmaster refuses to run as root, so when these
# functions run as root every PostgreSQL program (initdb, pg_ctl) runs as the
# owner of the cluster directory, which is the unprivileged `postgres`
# account. That account must be able to walk to the cluster directory. We never
# loosen permissions on the caller's directories (a checkout under /root, whose
# mode is 0700, is the common case). Instead, when `postgres` cannot reach the
# parent of DATADIR, the cluster lives in ~postgres/turnstile/<hash of DATADIR>
# and DATADIR becomes a symlink to it. ~postgres (/var/lib/postgresql on
# Debian) is persistent and not swept by tmpfiles, unlike /tmp and /var/tmp.
# ts_pg_destroy removes both the symlink and its target. Clients connect over
# TCP to 127.0.0.1 with trust authentication as database user `postgres`, so
# they need no socket path and may run as any OS user.

TS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Debian packages the project builds, tests and runs with (DESIGN.md).
TS_DEB_PACKAGES="build-essential cmake pkg-config git clang-format nats-server libnats-dev
 liblmdb-dev lmdb-utils flatbuffers-compiler libflatbuffers-dev postgresql libpq-dev
 libmicrohttpd-dev libjansson-dev libjwt-dev libssl-dev libcurl4-openssl-dev libqrencode-dev zlib1g-dev
 libzstd-dev zstd libcmocka-dev wrk curl jq python3 procps iproute2"

ts_log() { printf "[ops] %s\n" "$*" >&2; }
ts_err() { printf '[ops] error: %s\n' "$*" >&2; }

# ts_install_deps: apt-get install the packages of TS_DEB_PACKAGES that are not
# installed yet; nothing (not even apt-get update) when all are.
ts_install_deps() {
    local p missing=""
    for p in $TS_DEB_PACKAGES; do
        dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' || missing="$missing $p"
    done
    [ -n "$missing" ] || return 0
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { ts_err "need root or sudo to install:$missing"; return 1; }
        sudo=sudo
    fi
    ts_log "installing:$missing"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
}

# ts_build [BUILDDIR] [CMAKE ARGS...]: configure (RelWithDebInfo unless the
# extra arguments say otherwise; a later -D wins) and build with all cores.
ts_build() {
    local dir=${1:-build}
    [ $# -eq 0 ] || shift
    ts_log "building $dir"
    cmake -S "$TS_ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null &&
        cmake --build "$dir" -j"$(nproc)"
}

# ts_free_port: print a TCP port that the kernel says is free right now.
ts_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ts_port_open PORT: true when something accepts connections on 127.0.0.1:PORT.
ts_port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ts_wait_port PORT [TIMEOUT_S=30] [PID]: wait until PORT accepts connections;
# give up early when PID (the process that should open it) has died.
ts_wait_port() {
    local port=$1 tenths=$((${2:-30} * 10)) pid=${3:-}
    while ! ts_port_open "$port"; do
        if [ -n "$pid" ] && ! ts_pid_alive "$pid"; then
            ts_err "process $pid exited before port $port opened"
            return 1
        fi
        tenths=$((tenths - 1))
        [ "$tenths" -gt 0 ] || { ts_err "port $port did not open in ${2:-30}s"; return 1; }
        sleep 0.1
    done
}

# ts_pid_alive PID [NAME]: true when PID runs, and its command name is NAME when
# given (a stale pid file may name a pid that now belongs to someone else). A
# zombie is dead: an orphan stays one until init reaps it, which some
# container inits do late or never, and kill -0 still succeeds on it.
ts_pid_alive() {
    local stat comm
    read -r stat comm < <(ps -o stat=,comm= -p "${1:-none}" 2>/dev/null) || return 1
    case $stat in Z*) return 1 ;; esac
    [ -z "${2:-}" ] || [ "$comm" = "$2" ]
}

# ts_pidfile_alive FILE [NAME]: ts_pid_alive on the pid stored in FILE.
ts_pidfile_alive() { [ -f "$1" ] && ts_pid_alive "$(cat "$1")" "${2:-}"; }

# ts_spawn PIDFILE LOGFILE CMD...: run CMD in the background in its own session
# (so it outlives the calling script and the terminal), stdout and stderr
# appended to LOGFILE, and write its pid to PIDFILE. setsid execs CMD in place
# because a background job of a script is never a process-group leader, so $!
# is CMD's own pid.
ts_spawn() {
    local pidfile=$1 log=$2
    shift 2
    mkdir -p "$(dirname "$pidfile")" "$(dirname "$log")"
    setsid "$@" </dev/null >>"$log" 2>&1 &
    echo $! >"$pidfile"
}

# ts_stop_pidfile FILE [NAME] [TIMEOUT_S=20]: SIGTERM the process in FILE, wait
# up to TIMEOUT_S, then SIGKILL; remove FILE. Quiet when nothing runs.
ts_stop_pidfile() {
    local file=$1 name=${2:-} t=$((${3:-20} * 10)) pid
    [ -f "$file" ] || return 0
    pid=$(cat "$file")
    if ts_pid_alive "$pid" "$name"; then
        ts_log "stopping $(basename "$file" .pid) (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        while ts_pid_alive "$pid" && [ "$t" -gt 0 ]; do
            sleep 0.1
            t=$((t - 1))
        done
        if ts_pid_alive "$pid"; then
            ts_log "pid $pid ignored SIGTERM for ${3:-20}s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$file"
}

# ts_start_nats PORT STOREDIR LOGFILE [PIDFILE=STOREDIR/nats-server.pid]:
# nats-server with JetStream (file store in STOREDIR) on 127.0.0.1:PORT.
# Does nothing when the server of PIDFILE already answers on PORT; fails when
# another program holds PORT.
ts_start_nats() {
    local port=$1 store=$2 log=$3 pidfile=${4:-$2/nats-server.pid}
    if ts_pidfile_alive "$pidfile" nats-server; then
        ts_wait_port "$port" 5 || { ts_err "nats-server $(cat "$pidfile") runs but not on port $port"; return 1; }
        ts_log "nats-server already running on port $port (pid $(cat "$pidfile"))"
        return 0
    fi
    if ts_port_open "$port"; then
        ts_err "port $port is taken by another program (wanted for nats-server)"
        return 1
    fi
    mkdir -p "$store"
    ts_log "starting nats-server on port $port (store $store)"
    ts_spawn "$pidfile" "$log" nats-server -js -sd "$store" -a 127.0.0.1 -p "$port"
    ts_wait_port "$port" 30 "$(cat "$pidfile")" || { tail -n 20 "$log" >&2; return 1; }
}

# ts_pg_bindir: the newest /usr/lib/postgresql/<version>/bin.
ts_pg_bindir() {
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -n "$d" ] || { ts_err "PostgreSQL server binaries not found (apt-get install postgresql)"; return 1; }
    echo "$d"
}

# ts_pg_as_owner DIR CMD...: run CMD as the owner of DIR when we are root (see
# the top of this file), from / so that an unreachable working directory does
# not trouble it; as ourselves otherwise.
ts_pg_as_owner() {
    local dir=$1
    shift
    if [ "$(id -u)" -eq 0 ]; then
        (cd / && runuser -u "$(stat -L -c %U "$dir")" -- "$@")
    else
        "$@"
    fi
}

# ts__pg_cluster_dir DATADIR: create the cluster directory for DATADIR (an
# absolute path) and print it: DATADIR itself, or the symlink target described
# at the top of this file.
ts__pg_cluster_dir() {
    local data=$1 real
    if [ "$(id -u)" -ne 0 ]; then
        mkdir -p "$data" && chmod 700 "$data" && echo "$data"
        return
    fi
    if [ -L "$data" ]; then
        real=$(readlink -f "$data")
        [ -d "$real" ] || { ts_err "$data points to missing $real"; return 1; }
        echo "$real"
        return
    fi
    mkdir -p "$(dirname "$data")" || return 1
    if (cd / && runuser -u postgres -- test -x "$(dirname "$data")"); then
        mkdir -p "$data" && chown postgres:postgres "$data" && chmod 700 "$data" && echo "$data"
        return
    fi
    if [ -d "$data" ] && [ -n "$(ls -A "$data")" ]; then
        ts_err "$data is not empty and the postgres account cannot reach it"
        return 1
    fi
    local home
    home=$(getent passwd postgres | cut -d: -f6)
    real="$home/turnstile/$(printf %s "$data" | sha256sum | cut -c1-16)"
    # The symlink was the only reference to a cluster left at $real: it is an
    # orphan (its DATADIR was deleted), and reusing it would pair old read
    # models with a new event log.
    [ ! -e "$real" ] || { ts_log "removing orphaned cluster $real"; rm -rf "$real"; }
    ts_log "postgres cannot reach $(dirname "$data"); cluster goes to $real (symlinked)"
    mkdir -p "$real" && chown postgres:postgres "$home/turnstile" "$real" && chmod 700 "$real" &&
        rm -rf "$data" && ln -s "$real" "$data" && echo "$real"
}

# ts__pg_shared_buffers_mb: an eighth of MemTotal in MB, 128..1024.
ts__pg_shared_buffers_mb() {
    awk '/^MemTotal:/ { mb = int($2 / 1024 / 8); if (mb > 1024) mb = 1024; if (mb < 128) mb = 128; print mb }' /proc/meminfo
}

# ts_start_pg PORT DATADIR LOGFILE [fast]: a PostgreSQL cluster in DATADIR
# (initdb on first use: trust auth, superuser `postgres`, UTF-8) listening on
# 127.0.0.1:PORT only; its Unix socket goes into the cluster directory when the
# path fits the 107-byte limit, else there is none. "fast" (tests) turns fsync
# off: a killed server loses nothing with it off, only a power cut would.
# A durable cluster gets shared_buffers of an eighth of the RAM, at most
# 1 GB (PostgreSQL's default of 128 MB is outgrown by the projector's
# catch-up, whose backend then writes its own dirty pages), and max_wal_size
# 4 GB (with 1 GB a rebuild of a million events met a checkpoint halfway,
# after which every page it touched again went to the WAL whole):
# BENCHMARKS.md, "Folding the log live". A fast one keeps the defaults, as
# tests start many.
# Does nothing when the cluster already runs on PORT; fails when another
# program holds PORT. The server's output is appended to LOGFILE through a
# descriptor opened by us, so the file needs no permissions for `postgres`.
ts_start_pg() {
    local port=$1 data log fast=${4:-} bin dir sock conf
    data=$(realpath -m -s "$2")
    log=$(realpath -m -s "$3")
    bin=$(ts_pg_bindir) || return 1
    dir=$(ts__pg_cluster_dir "$data") || return 1
    mkdir -p "$(dirname "$log")"
    if [ -f "$dir/postmaster.pid" ] && ts_pg_as_owner "$dir" "$bin/pg_ctl" status -D "$dir" >/dev/null; then
        ts_wait_port "$port" 5 || { ts_err "postgres of $data runs, but not on port $port"; return 1; }
        ts_log "postgres already running on port $port ($data)"
        return 0
    fi
    if ts_port_open "$port"; then
        ts_err "port $port is taken by another program (wanted for postgres)"
        return 1
    fi
    if [ ! -s "$dir/PG_VERSION" ]; then
        ts_log "initdb $data"
        ts_pg_as_owner "$dir" "$bin/initdb" -D "$dir" -A trust -U postgres --auth-local=trust \
            -E UTF8 --locale=C.UTF-8 --no-instructions ${fast:+--no-sync} >>"$log" 2>&1 ||
            { tail -n 20 "$log" >&2; return 1; }
        echo "include_if_exists = 'turnstile.conf'" >>"$dir/postgresql.conf"
    fi
    # Written at every start, so the port and socket follow the caller. The
    # socket is "$dir/.s.PGSQL.$port"; an empty directory list means none.
    sock="$dir"
    [ $((${#dir} + 10 + ${#port})) -le 107 ] || sock=""
    conf="listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '${sock//\'/\'\'}'"
    if [ -n "$fast" ]; then
        conf="$conf
fsync = off
synchronous_commit = off
full_page_writes = off"
    else
        conf="$conf
shared_buffers = $(ts__pg_shared_buffers_mb)MB
max_wal_size = 4GB"
    fi
    printf '%s\n' "$conf" >"$dir/turnstile.conf"
    chown --reference="$dir" "$dir/turnstile.conf"
    ts_log "starting postgres on port $port ($data)"
    ts_pg_as_owner "$dir" "$bin/pg_ctl" start -w -t 60 -D "$dir" </dev/null >>"$log" 2>&1 ||
        { tail -n 20 "$log" >&2; return 1; }
    ts_wait_port "$port" 10
}

# ts_stop_pg DATADIR: fast shutdown (rolls back open transactions) of the
# cluster in DATADIR, as its owner. Quiet when it does not run.
ts_stop_pg() {
    local dir bin
    dir=$(readlink -f "$1") || return 0
    [ -f "$dir/postmaster.pid" ] || return 0
    bin=$(ts_pg_bindir) || return 1
    ts_pg_as_owner "$dir" "$bin/pg_ctl" status -D "$dir" >/dev/null || return 0
    ts_log "stopping postgres ($1)"
    ts_pg_as_owner "$dir" "$bin/pg_ctl" stop -m fast -w -t 60 -D "$dir" >/dev/null
}

# ts_pg_destroy DATADIR: stop the cluster and delete it, symlink target included.
ts_pg_destroy() {
    ts_stop_pg "$1" || true
    [ ! -L "$1" ] || rm -rf "$(readlink -f "$1")"
    rm -rf "$1"
}

# ts_psql PORT [PSQL ARGS...]: psql as superuser `postgres` over TCP.
ts_psql() {
    local port=$1 bin
    shift
    bin=$(ts_pg_bindir) || return 1
    "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres "$@"
}

# ts_pg_createdb PORT NAME: create database NAME ([a-z0-9_]+) unless it exists.
ts_pg_createdb() {
    local port=$1 name=$2
    case $name in *[!a-z0-9_]* | "") ts_err "bad database name '$name'"; return 1 ;; esac
    [ "$(ts_psql "$port" -d postgres -tAc "select 1 from pg_database where datname = '$name'")" != 1 ] || return 0
    ts_log "creating database $name"
    ts_psql "$port" -d postgres -c "create database $name"
}
