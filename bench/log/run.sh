#!/usr/bin/env bash
# bench/log/run.sh BUILD_DIR — our JSON logger against zap, in one run.
#
# Both write Info + a message + 5 fields (string, int, float, bool,
# duration) through a 64 KiB buffered sink to /dev/null: ours is bench-log
# (built by scripts/bench in BUILD_DIR), zap's production JSON encoder with
# no caller and no sampling is bench/log/zap/main.go, built here offline in
# GOPATH mode from Debian's golang-go.uber-zap-dev (Go 1.19 has no modules
# to download). Each side runs pinned with taskset -c 0; figures are medians
# of --rounds runs. Prints the `bench:` lines of STYLE.md plus `#` notes.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:?usage: run.sh BUILD_DIR}" && pwd)
rounds=${ROUNDS:-5}

# shellcheck source=../../scripts/lib/packages.sh
. "$root/scripts/lib/packages.sh"
svk_ensure_packages golang-go golang-go.uber-zap-dev

gopath=$build/bench/log/gopath
mkdir -p "$gopath"
GO111MODULE=off GOPATH="$gopath:/usr/share/gocode" GOCACHE="$gopath/cache" GOFLAGS= \
    go build -o "$build/bench/log/zapbench" "$here/zap/main.go"

ours=$(taskset -c 0 "$build/bench/log/bench-log" --rounds "$rounds")
zap=$(taskset -c 0 "$build/bench/log/zapbench" -rounds "$rounds")

# value SIDE METRIC — the figure one side printed as "SIDE METRIC VALUE".
value() {
    local text
    [[ $1 == ours ]] && text=$ours || text=$zap
    awk -v m="$2" '$2 == m { print $3 }' <<<"$text"
}

# line METRIC UNIT GOAL [OURS_METRIC] — one bench: line with the ratio.
line() {
    local o z
    o=$(value ours "${4:-$1}")
    z=$(value zap "$1")
    awk -v m="$1" -v o="$o" -v z="$z" -v u="$2" -v g="$3" 'BEGIN {
        r = z > 0 ? sprintf("%.3f", o / z) : "n/a"
        printf "bench: log.%s ours=%s zap=%s unit=%s ratio=%s goal=%s\n", m, o, z, u, r, g
    }'
}

echo "# log: both sides pinned with taskset -c 0; buffered /dev/null sinks; median of $rounds"
echo "# log: zap = zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), no caller, no sampling"
line json_5_fields ns/op "<=0.3"
line disabled ns/op "<=2ns"
line allocs_per_line allocs/op "<=0"
echo "# log: extra figures, no goal"
line json_5_fields_hard_float ns/op "none"
echo "# log: allocations of a disabled line: ours $(value ours disabled_allocs)," \
     "zap $(value zap disabled_allocs) allocs/op"
