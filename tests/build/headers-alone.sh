#!/bin/sh
# headers-alone.sh CC INCLUDE_DIR — compile every public header on its own,
# strictly, as C11 and as the first and only include of a translation unit.
set -eu
cc=$1
inc=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
for h in "$inc"/svckit/*.h; do
    name=$(basename "$h")
    printf '#include <svckit/%s>\n' "$name" > "$tmp/$name.c"
    "$cc" -std=c11 -pedantic -Wall -Wextra -Werror -I"$inc" -c "$tmp/$name.c" -o "$tmp/$name.o"
    n=$((n + 1))
done
[ "$n" -gt 0 ] || { echo "no headers found in $inc/svckit" >&2; exit 1; }
echo "headers-alone: $n headers compile on their own"
