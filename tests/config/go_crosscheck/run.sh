#!/bin/sh
# run.sh GO_SOURCE_DIR CORPUS_PROGRAM — build the Go side of the cross-check
# offline (Go 1.19, GOPATH mode, go-humanize from Debian's
# golang-github-dustin-go-humanize-dev) into a temporary directory, then let
# the C corpus program compare our parsers with Go's answers. A missing Go
# toolchain is a failure, not a skip: scripts/lib/packages.sh installs it.
set -eu
src=$1
corpus=$2
command -v go >/dev/null 2>&1 || { echo "go_crosscheck: go not installed (apt-get install golang-go)" >&2; exit 1; }
[ -f /usr/share/gocode/src/github.com/dustin/go-humanize/bytes.go ] ||
    { echo "go_crosscheck: install golang-github-dustin-go-humanize-dev" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/gopath" "$tmp/cache"
cp "$src/main.go" "$tmp/main.go"
(cd "$tmp" && GO111MODULE=off GOPATH="$tmp/gopath:/usr/share/gocode" GOCACHE="$tmp/cache" \
    GOFLAGS= CGO_ENABLED=0 go build -o "$tmp/crosscheck" main.go)
"$corpus" "$tmp/crosscheck" "$tmp"
