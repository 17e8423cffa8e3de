#!/bin/sh
# exports.sh SHARED_LIB STATIC_LIB — the shared library exports only svk_*
# symbols (all in version node SVK_0) and has SONAME libsvckit.so.0; every
# global symbol the static library defines is svk_* too, or svk__* internal.
set -eu
so=$1
a=$2
bad=$(nm -D --defined-only "$so" | awk '$3 != "" && $3 !~ /^svk_/ {print $3}' | grep -v '^SVK_0$' || true)
if [ -n "$bad" ]; then
    echo "exports: symbols without the svk_ prefix in $so:" >&2
    echo "$bad" >&2
    exit 1
fi
count=$(nm -D --defined-only "$so" | awk '$3 ~ /^svk_/' | wc -l)
[ "$count" -gt 0 ] || { echo "exports: no svk_ symbols exported" >&2; exit 1; }
internal=$(nm -D --defined-only "$so" | awk '$3 ~ /^svk__/ {print $3}')
if [ -n "$internal" ]; then
    echo "exports: internal svk__ symbols leaked: $internal" >&2
    exit 1
fi
unversioned=$(objdump -T "$so" | awk '/ svk_/ && !/SVK_0/' || true)
if [ -n "$unversioned" ]; then
    echo "exports: symbols outside version node SVK_0:" >&2
    echo "$unversioned" >&2
    exit 1
fi
soname=$(objdump -p "$so" | awk '$1 == "SONAME" {print $2}')
[ "$soname" = "libsvckit.so.0" ] || { echo "exports: SONAME is '$soname'" >&2; exit 1; }
# __odr_asan.* are AddressSanitizer's per-global markers, not our names.
badstatic=$(nm --defined-only -g "$a" 2>/dev/null \
    | awk 'NF == 3 && $3 !~ /^svk_/ && $3 !~ /^__odr_asan\.svk_/ {print $3}' || true)
if [ -n "$badstatic" ]; then
    echo "exports: static library defines globals without svk_ prefix:" >&2
    echo "$badstatic" >&2
    exit 1
fi
echo "exports: $count svk_ symbols, SONAME $soname, node SVK_0"
