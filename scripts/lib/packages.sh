# scripts/lib/packages.sh — sourced by scripts/*: install Debian packages once.
#
# svk_ensure_packages PKG... installs whichever of PKG are missing, quietly,
# and does nothing (no apt-get update, no network) when all are present.

svk_ensure_packages() {
    local missing=() pkg
    for pkg in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$pkg")
        fi
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "installing: ${missing[*]}" >&2
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    # Through env: sudo's env_reset would drop an exported DEBIAN_FRONTEND.
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# What building the library and its tests needs.
SVK_BUILD_PACKAGES=(
    gcc libc6-dev make cmake pkg-config
    libuv1-dev libcurl4-openssl-dev libpq-dev libjansson-dev libnats-dev
)
SVK_TEST_PACKAGES=(
    clang libclang-rt-14-dev libcriterion-dev uuid-dev
    postgresql-15 postgresql-client-15 nats-server
    abigail-tools binutils jq curl man-db groff-base
    golang-go golang-github-dustin-go-humanize-dev
)
