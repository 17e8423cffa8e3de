#!/usr/bin/env bash
# bench/http/run.sh BUILD_DIR — svk-hello (examples/hello/) against Go 1.19
# net/http + chi, nginx and h2o, all in one run on this box.
#
# Each server in turn is started pinned to CPU 0 (taskset -c 0) from a temp
# dir on a free port, its routes checked with curl, then measured:
#   1. GET /hello, 2. POST /v1/echo with a 256-byte JSON body: a warm-up,
#      then `taskset -c 1 wrk -t1 -c100 -d${S}s --latency` (keep-alive);
#      req/s, p50 and p99 from wrk, and server CPU per request = utime+stime
#      of the server's processes (/proc/PID/stat) over the wrk run ÷ the
#      requests wrk completed;
#   3. on a fresh process, RSS per idle keep-alive connection: VmRSS summed
#      over the server's processes before and after idle-conns (pinned to
#      CPU 1) holds N connections that have each served one GET /hello, ÷ N;
# and stopped. svk-hello runs when this build has it (bench/http/
# CMakeLists.txt writes its path); when not, its figures are n/a and a `#`
# line says why. Prints the `bench:` lines of STYLE.md, one per (metric,
# peer), plus `#` notes. Exits 1 if a server that exists failed.
#
# Environment: BENCH_HTTP_SECONDS (30) per wrk run, BENCH_HTTP_WARMUP (3)
# seconds of wrk before each, BENCH_HTTP_IDLE_CONNS (10000),
# BENCH_HTTP_KEEP=1 keeps the temp dir (configs, server logs, wrk output).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:?usage: run.sh BUILD_DIR}" && pwd)
seconds=${BENCH_HTTP_SECONDS:-30}
warmup=${BENCH_HTTP_WARMUP:-3}
idle_count=${BENCH_HTTP_IDLE_CONNS:-10000}
out=$build/bench/http
idle_bin=$out/idle-conns
body_file=$here/echo_body.json
hello_body=$'hello, world\n'

# shellcheck source=../../scripts/lib/packages.sh
. "$root/scripts/lib/packages.sh"
# The peers and the load generator. nginx-light brings nginx; njs
# (libnginx-mod-http-js) lets nginx decode and re-encode the JSON echo.
SVK_BENCH_HTTP_PACKAGES=(
    golang-go golang-github-go-chi-chi-dev nginx-light libnginx-mod-http-js
    h2o wrk curl jq
)
svk_ensure_packages "${SVK_BENCH_HTTP_PACKAGES[@]}"

if [[ ! -x $idle_bin || ! -f $out/svk-hello.path ]]; then
    echo "bench/http: $idle_bin or $out/svk-hello.path missing: build target" \
         "bench-http first (scripts/bench http)" >&2
    exit 1
fi

declare -A R=()    # figures: R[server.test.metric]
failed=()          # servers that exist but could not be measured
skewed=()          # "server test" runs during which other processes used a CPU
server_pid=""
helper_pid=""
wrk_pid=""
tmp=$(mktemp -d /tmp/svk-bench-http.XXXXXX)
# nginx's workers and h2o drop root for nobody, who must read the dir.
chmod 755 "$tmp"

stop_pid() {
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    [[ -n $wrk_pid ]] && stop_pid "$wrk_pid"
    [[ -n $helper_pid ]] && stop_pid "$helper_pid"
    [[ -n $server_pid ]] && stop_pid "$server_pid"
    if [[ ${BENCH_HTTP_KEEP:-0} == 1 ]]; then
        echo "# http: temp dir kept: $tmp"
    else
        rm -rf "$tmp"
    fi
}
trap cleanup EXIT

note() {
    echo "# http: $*"
}

# A port nothing listens on now (checked by connecting to it).
free_port() {
    local port i
    for ((i = 0; i < 100; i++)); do
        port=$((20000 + RANDOM % 12000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    return 1
}

# tree_pids ROOT — ROOT and every process descended from it.
tree_pids() {
    cat /proc/[0-9]*/stat 2>/dev/null | awk -v root="$1" '
        { pid = $1; sub(/^.*\) /, ""); parent[pid] = $2 }
        END {
            for (p in parent) {
                q = p
                while (q != root && (q in parent) && q > 1)
                    q = parent[q]
                if (q == root)
                    print p
            }
        }'
}

# cpu_ticks PID... — utime+stime of the processes, in clock ticks.
cpu_ticks() {
    local pid
    for pid in "$@"; do
        cat "/proc/$pid/stat" 2>/dev/null || true
    done | awk '{ sub(/^.*\) /, ""); t += $12 + $13 } END { print t + 0 }'
}

# rss_kib PID... — VmRSS of the processes added up, in KiB.
rss_kib() {
    local pid
    for pid in "$@"; do
        awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true
    done | awk '{ s += $1 } END { print s + 0 }'
}

# snapshot PID... — one line of clock ticks since boot: the processes'
# utime+stime, this shell's reaped children's (so wrk's, once it has
# exited), then busy, all and softirq ticks of CPU 0, then of CPU 1.
snapshot() {
    echo "$(cpu_ticks "$@")" \
        "$(awk '{ sub(/^.*\) /, ""); print $14 + $15 }' "/proc/$$/stat")" \
        "$(awk '$1 == "cpu0" || $1 == "cpu1" {
            printf "%d %d %d ", $2 + $3 + $4 + $7 + $8 + $9,
                   $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9, $8 }' /proc/stat)"
}

# launch NAME PORT CMD... — start CMD pinned to CPU 0 and wait until GET
# /hello answers 200; sets server_pid. Returns 1 if it died or never did.
launch() {
    local name=$1 port=$2 i
    shift 2
    taskset -c 0 "$@" >>"$tmp/$name.log" 2>&1 &
    server_pid=$!
    for ((i = 0; i < 100; i++)); do
        if ! kill -0 "$server_pid" 2>/dev/null; then
            note "$name exited at start; its log:"
            sed 's/^/#   /' "$tmp/$name.log"
            server_pid=""
            return 1
        fi
        curl -fsS -o /dev/null "http://127.0.0.1:$port/hello" 2>/dev/null && return 0
        sleep 0.1
    done
    note "$name did not answer GET /hello on port $port within 10 s"
    return 1
}

# check_routes NAME PORT — the same answers from every server; sets
# R[NAME.post.skip] when the echo is not one (the POST figures are n/a).
check_routes() {
    local name=$1 url="http://127.0.0.1:$2" got status
    curl -sS -o "$tmp/$name.hello" "$url/hello" || true
    cmp -s "$tmp/$name.hello" <(printf '%s' "$hello_body") ||
        note "$name: GET /hello body is $(printf %q "$(cat "$tmp/$name.hello")")," \
             "not $(printf %q "$hello_body")"
    got=$(curl -sS -H 'Content-Type: application/json' --data-binary "@$body_file" \
        "$url/v1/echo" | jq -Sc . 2>/dev/null || true)
    if [[ $got != "$(jq -Sc . "$body_file")" ]]; then
        R[$name.post.skip]="POST /v1/echo did not echo the JSON body"
    fi
    status=$(curl -sS -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
        --data-binary '{"a":' "$url/v1/echo" || true)
    if [[ $status != 400 ]]; then
        R[$name.post.skip]="POST /v1/echo of bad JSON answered $status, not 400"
    fi
    status=$(curl -sS -o /dev/null -w '%{http_code}' "$url/v1/items/42" || true)
    [[ $status == 200 ]] || note "$name: GET /v1/items/42 answered $status"
}

# to_ms VALUE — wrk's "850.00us" / "1.05ms" / "1.20s" in milliseconds.
to_ms() {
    awk -v v="$1" 'BEGIN {
        if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
        else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
        else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
        else print "n/a" }'
}

# run_wrk SECONDS URL ARGS... — wrk pinned to CPU 1, as a job of this shell
# (so cleanup can stop it and its CPU time lands in this shell's children's).
run_wrk() {
    local secs=$1 url=$2 rc=0
    shift 2
    taskset -c 1 wrk "$@" -d"${secs}s" "$url" &
    wrk_pid=$!
    wait "$wrk_pid" || rc=$?
    wrk_pid=""
    return "$rc"
}

# measure NAME TEST URL [WRK_ARGS...] — warm-up, then the timed wrk run;
# sets R[NAME.TEST.{rps,p50,p99,cpu}].
measure() {
    local name=$1 test=$2 url=$3
    shift 3
    local args=(-t1 -c100 --latency "$@") pids before after text reqs non2xx
    run_wrk "$warmup" "$url" "${args[@]}" >/dev/null || true
    mapfile -t pids < <(tree_pids "$server_pid")
    before=$(snapshot "${pids[@]}")
    if ! run_wrk "$seconds" "$url" "${args[@]}" >"$tmp/$name.$test.wrk" 2>&1; then
        note "$name $test: wrk failed: $(cat "$tmp/$name.$test.wrk")"
        return 1
    fi
    after=$(snapshot "${pids[@]}")
    text=$(cat "$tmp/$name.$test.wrk")
    reqs=$(awk '/ requests in / { print $1 }' <<<"$text")
    non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' <<<"$text")
    if [[ -z $reqs || $reqs -eq 0 ]]; then
        note "$name $test: no requests completed; wrk said:"
        printf '%s\n' "$text" | sed 's/^/#   /'
        return 1
    fi
    if [[ -n $non2xx ]]; then
        note "$name $test: $non2xx of $reqs responses were not 2xx: figures n/a"
        return 1
    fi
    if grep -q 'Socket errors' <<<"$text"; then
        note "$name $test: wrk $(grep 'Socket errors' <<<"$text" | sed 's/^ *//')"
    fi
    R[$name.$test.rps]=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$text")
    R[$name.$test.p50]=$(to_ms "$(awk '$1 == "50%" { print $2 }' <<<"$text")")
    R[$name.$test.p99]=$(to_ms "$(awk '$1 == "99%" { print $2 }' <<<"$text")")
    R[$name.$test.cpu]=$(awk -v b="$before" -v a="$after" -v hz="$(getconf CLK_TCK)" \
        -v n="$reqs" 'BEGIN { split(b, x); split(a, y)
            printf "%.3f", (y[1] - x[1]) / hz / n * 1e6 }')
    text=$(describe_run "$name" "$test" "$reqs" "$before" "$after")
    printf '%s\n' "$text"
    if grep -q WARNING <<<"$text"; then
        skewed+=("$name $test")
    fi
}

# describe_run NAME TEST REQUESTS BEFORE AFTER — `#` lines with the run's
# figures and where the two CPUs' time went, and a warning when other
# processes took more than 5 % of either CPU (the figures are then skewed).
# Softirq time is charged to the process it interrupted, so the server's
# and wrk's shares include the network work done in their context.
describe_run() {
    awk -v name="$1" -v test="$2" -v n="$3" -v b="$4" -v a="$5" \
        -v rps="${R[$1.$2.rps]}" -v p50="${R[$1.$2.p50]}" -v p99="${R[$1.$2.p99]}" \
        -v cpu="${R[$1.$2.cpu]}" 'BEGIN {
        split(b, x); split(a, y)
        for (i = 1; i <= 8; i++) d[i] = y[i] - x[i]
        srv = 100 * d[1] / d[4]; wrk = 100 * d[2] / d[7]
        o0 = 100 * d[3] / d[4] - srv; o1 = 100 * d[6] / d[7] - wrk
        if (o0 < 0) o0 = 0
        if (o1 < 0) o1 = 0
        printf "# http: %s %s: %d req/s, %d requests, p50 %.3f ms, p99 %.3f ms, " \
               "%.3f us CPU/req\n", name, test, rps, n, p50, p99, cpu
        printf "# http: %s %s: CPU 0: server %.0f%%, others %.0f%% (softirq %.0f%% in " \
               "all); CPU 1: wrk %.0f%%, others %.0f%% (softirq %.0f%% in all)\n",
               name, test, srv, o0, 100 * d[5] / d[4], wrk, o1, 100 * d[8] / d[7]
        if (o0 > 5 || o1 > 5)
            printf "# http: WARNING: other processes used %.0f%% of CPU 0 and %.0f%% " \
                   "of CPU 1 during %s %s: its figures are skewed\n", o0, o1, name, test
    }'
}

# idle_rss NAME PORT — sets R[NAME.idle.rss] (KiB per idle connection).
idle_rss() {
    local name=$1 port=$2 pids before after text i
    if ((fd_limit < idle_count + 100)); then
        note "$name: idle connections n/a: fd limit $fd_limit < $idle_count + 100"
        return 0
    fi
    sleep 0.5
    mapfile -t pids < <(tree_pids "$server_pid")
    before=$(rss_kib "${pids[@]}")
    taskset -c 1 "$idle_bin" --port "$port" --count "$idle_count" >"$tmp/$name.idle" 2>&1 &
    helper_pid=$!
    for ((i = 0; i < 1200; i++)); do
        grep -q -e '^held' -e '^failed' "$tmp/$name.idle" && break
        kill -0 "$helper_pid" 2>/dev/null || break
        sleep 0.1
    done
    if ! grep -q '^held' "$tmp/$name.idle"; then
        note "$name: idle connections n/a: idle-conns: $(head -n1 "$tmp/$name.idle")"
        stop_pid "$helper_pid"
        helper_pid=""
        return 0
    fi
    sleep 1 # let the server finish with the last connections
    mapfile -t pids < <(tree_pids "$server_pid")
    after=$(rss_kib "${pids[@]}")
    stop_pid "$helper_pid"
    helper_pid=""
    text=$(grep '^still open' "$tmp/$name.idle" || echo "still open ? of $idle_count")
    if [[ $text != "still open $idle_count of $idle_count" ]]; then
        note "$name: idle connections n/a: the server closed some: $text"
        return 0
    fi
    R[$name.idle.rss]=$(awk -v a="$after" -v b="$before" -v n="$idle_count" \
        'BEGIN { printf "%.3f", (a - b) / n }')
    note "$name idle: $idle_count connections, RSS $before -> $after KiB" \
         "(${R[$name.idle.rss]} KiB/conn)"
}

# start_fresh NAME — a new process of server NAME on a free port (start_NAME
# PORT writes its config and calls launch); sets port. Returns 1 if it
# failed, which is recorded.
start_fresh() {
    port=$(free_port)
    if "start_$1" "$port"; then
        return 0
    fi
    failed+=("$1")
    [[ -n $server_pid ]] && stop_pid "$server_pid"
    server_pid=""
    return 1
}

# stop_server NAME — stop it, recording a failure if it had died meanwhile.
stop_server() {
    if ! kill -0 "$server_pid" 2>/dev/null; then
        note "$1 died during the run; its log:"
        sed 's/^/#   /' "$tmp/$1.log"
        failed+=("$1")
    fi
    stop_pid "$server_pid"
    server_pid=""
}

# bench_server NAME — check, measure and stop one server. The wrk runs and
# the idle connections each get a fresh process, so neither sees the
# other's leftovers (10 000 closed connections' memory being returned by
# Go's scavenger would be charged to the wrk runs' CPU time).
bench_server() {
    local name=$1 port
    start_fresh "$name" || return 0
    check_routes "$name" "$port"
    measure "$name" get "http://127.0.0.1:$port/hello" || failed+=("$name")
    if [[ -n ${R[$name.post.skip]:-} ]]; then
        note "$name post: n/a: ${R[$name.post.skip]}"
        failed+=("$name")
    else
        BENCH_HTTP_BODY=$body_file measure "$name" post "http://127.0.0.1:$port/v1/echo" \
            -s "$here/post_echo.lua" || failed+=("$name")
    fi
    stop_server "$name"
    start_fresh "$name" || return 0
    idle_rss "$name" "$port"
    stop_server "$name"
}

# ------------------------------------------------------------ the servers

ours_bin=""
chi_bin=$out/chi-hello

start_ours() {
    launch ours "$1" env PORT="$1" HTTP_THREADS=1 LOG_LEVEL=warn "$ours_bin"
}

start_chi() {
    launch chi "$1" env PORT="$1" GOMAXPROCS=1 "$chi_bin"
}

# fill TEMPLATE DEST PORT — a config from bench/http/conf/ for this run.
fill() {
    sed -e "s|@DIR@|$tmp|g" -e "s|@PORT@|$3|g" -e "s|@CONNS@|$((idle_count + 1000))|g" \
        "$here/conf/$1" >"$2"
}

start_nginx() {
    fill nginx.conf.in "$tmp/nginx.conf" "$1"
    cp "$here/conf/echo.js" "$tmp/echo.js"
    launch nginx "$1" nginx -p "$tmp" -c "$tmp/nginx.conf" -e "$tmp/nginx-error.log"
}

start_h2o() {
    fill h2o.conf.in "$tmp/h2o.conf" "$1"
    printf '%s' "$hello_body" >"$tmp/hello.txt"
    launch h2o "$1" h2o -c "$tmp/h2o.conf"
}

bench_ours() {
    ours_bin=$(head -n1 "$out/svk-hello.path")
    if [[ -z $ours_bin ]]; then
        note "ours=n/a: this build has no CMake target svk-hello" \
             "(no examples/hello/CMakeLists.txt defining it)"
        return 0
    fi
    if [[ ! -x $ours_bin ]]; then
        note "ours=n/a: svk-hello target exists but $ours_bin was not built"
        failed+=(ours)
        return 0
    fi
    note "ours: $ours_bin, HTTP_THREADS=1 LOG_LEVEL=warn (no access log)"
    bench_server ours
}

# Go peer: built offline (Go 1.19 cannot download modules) in module mode,
# chi v5 replaced by Debian's source; sources copied so the build writes
# nothing into the tree.
bench_chi() {
    local src=$out/chi-src
    rm -rf "$src"
    mkdir -p "$src" "$out/gopath"
    cp "$here/go/go.mod" "$here/go/main.go" "$src/"
    if ! (cd "$src" && GO111MODULE=on GOPROXY=off GOSUMDB=off GOFLAGS=-mod=mod \
            GOPATH="$out/gopath" GOCACHE="$out/gopath/cache" \
            go build -trimpath -o "$chi_bin" . >"$tmp/chi-build.log" 2>&1); then
        note "chi=n/a: go build failed:"
        sed 's/^/#   /' "$tmp/chi-build.log"
        failed+=(chi)
        return 0
    fi
    note "chi: $(go version | cut -d' ' -f3) net/http + chi" \
         "$(dpkg-query -W -f='${Version}' golang-github-go-chi-chi-dev)," \
         "GOMAXPROCS=1, middleware RequestID RealIP Recoverer Timeout(15s), no logger"
    bench_server chi
}

bench_nginx() {
    note "nginx: $(nginx -v 2>&1 | cut -d' ' -f3), 1 worker, return 200 for GET /hello," \
         "njs $(dpkg-query -W -f='${Version}' libnginx-mod-http-js) JSON.parse/stringify" \
         "for the echo; RSS and CPU summed over master + worker"
    bench_server nginx
}

bench_h2o() {
    note "h2o: $(h2o --version | head -n1 | cut -d' ' -f3), num-threads 1," \
         "file.file for GET /hello, mruby JSON.parse/generate for the echo"
    bench_server h2o
}

# ------------------------------------------------------------ the report

# line METRIC KEY PEER UNIT GOAL — one bench: line, ratio = ours/peer.
line() {
    local o=${R[ours.$2]:-n/a} p=${R[$3.$2]:-n/a}
    awk -v m="$1" -v o="$o" -v peer="$3" -v p="$p" -v u="$4" -v g="$5" 'BEGIN {
        r = (o ~ /^[0-9.]+$/ && p ~ /^[0-9.]+$/ && p > 0) ? sprintf("%.3f", o / p) : "n/a"
        printf "bench: http.%s ours=%s %s=%s unit=%s ratio=%s goal=%s\n", m, o, peer, p, u, r, g
    }'
}

report() {
    local test metric
    note "pinning: each server on CPU 0 (taskset -c 0), wrk on CPU 1" \
         "(taskset -c 1 wrk -t1 -c100 -d${seconds}s --latency, keep-alive," \
         "${warmup}s warm-up before each run); idle-conns on CPU 1"
    note "cpu_per_req = server utime+stime (/proc/PID/stat, all its processes)" \
         "over the wrk run / requests completed; goals from issue 5;" \
         "goal=none: information only"
    if [[ ${#skewed[@]} -gt 0 ]]; then
        note "WARNING: other processes used over 5% of CPU 0 or 1 during" \
             "${#skewed[@]} wrk runs (${skewed[*]}): their req/s and latencies" \
             "are not comparable; cpu_per_req and idle_conn_rss hold up better"
    fi
    for test in get post; do
        [[ $test == get ]] && metric=get_hello || metric=post_echo
        line "$metric.rps" "$test.rps" nginx req/s "$([[ $test == get ]] && echo '>=1.0' || echo none)"
        line "$metric.rps" "$test.rps" chi req/s none
        line "$metric.rps" "$test.rps" h2o req/s none
        line "$metric.cpu_per_req" "$test.cpu" chi us/req "<=0.5"
        line "$metric.cpu_per_req" "$test.cpu" nginx us/req "<=1.25"
        line "$metric.cpu_per_req" "$test.cpu" h2o us/req none
        line "$metric.p99" "$test.p99" chi ms "<=1.0"
        line "$metric.p99" "$test.p99" nginx ms none
        line "$metric.p99" "$test.p99" h2o ms none
        line "$metric.p50" "$test.p50" chi ms none
        line "$metric.p50" "$test.p50" nginx ms none
        line "$metric.p50" "$test.p50" h2o ms none
    done
    line idle_conn_rss idle.rss chi KiB/conn "<=1KiB"
    line idle_conn_rss idle.rss nginx KiB/conn "<=1KiB"
    line idle_conn_rss idle.rss h2o KiB/conn "<=1KiB"
}

main() {
    local hard
    hard=$(ulimit -Hn)
    [[ $hard == unlimited ]] && hard=1048576
    ulimit -n "$hard"
    fd_limit=$(ulimit -n)
    note "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)" \
         "(other work on this box skews every figure)"
    bench_ours
    bench_chi
    bench_nginx
    bench_h2o
    report
    if [[ ${#failed[@]} -gt 0 ]]; then
        echo "bench/http: failed: $(printf '%s\n' "${failed[@]}" | sort -u | xargs)" >&2
        return 1
    fi
}

main
