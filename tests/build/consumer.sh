#!/bin/sh
# consumer.sh SOURCE_DIR BUILD_DIR [SANITIZE]
#
# Installs BUILD_DIR into a fresh temporary prefix and proves that an external
# program (tests/consumer/main.c) builds and runs against the INSTALLED tree:
#
#   tree        the install has the headers, libsvckit.so.X.Y.Z with its
#               libsvckit.so.X / libsvckit.so symlinks, libsvckit.a, svckit.pc,
#               svckitConfig.cmake + ConfigVersion, the man pages (man -l
#               renders svk_strerror.3), and no build or source paths in the
#               .pc / .cmake files
#   pc-shared   cc main.c $(pkg-config --cflags --libs svckit); headers come
#               from the prefix; NEEDED libsvckit.so.X; ldd resolves it to the
#               installed file; runs
#   pc-static   cc main.c <prefix>/lib*/libsvckit.a + the .pc's private
#               dependencies; no libsvckit.so in NEEDED; runs
#   cmake       tests/consumer configured with -DCMAKE_PREFIX_PATH=<prefix>
#               (find_package(svckit 0.1 CONFIG)); consumer_shared NEEDs
#               libsvckit.so.X resolved into the prefix, consumer_static does
#               not; both run
#
# SANITIZE is the build's SVK_SANITIZE value (e.g. address,undefined): an
# instrumented libsvckit needs the sanitizer runtime in every program linking
# it, so the consumers are compiled and linked with the same -fsanitize flags.
# Environment: CC (default cc; use the compiler that built the library),
# CMAKE (default cmake), SVK_CONSUMER_CFLAGS / SVK_CONSUMER_LDFLAGS (extra
# flags), SVK_CONSUMER_KEEP=1 keeps the temporary directory.
#
# Every step runs even if an earlier one failed (except when the install
# itself fails); the last line says which passed. Exit 0 only if all passed.
# shellcheck disable=SC2015  # "test && test || fail": fail exits, so this is if/else
set -eu

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
    echo "usage: $0 SOURCE_DIR BUILD_DIR [SANITIZE]" >&2
    exit 2
fi
src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
san=${3-}
cc=${CC:-cc}
cmake=${CMAKE:-cmake}

cflags="-std=c11 -Wall -Wextra -Werror -pedantic"
ldflags=""
cmake_cflags=""
if [ -n "$san" ]; then
    sanflags="-fsanitize=$san -fno-omit-frame-pointer -fno-sanitize-recover=all -g"
    cflags="$cflags $sanflags"
    ldflags="-fsanitize=$san"
    cmake_cflags=$sanflags
fi
cflags="$cflags ${SVK_CONSUMER_CFLAGS-}"
ldflags="$ldflags ${SVK_CONSUMER_LDFLAGS-}"
cmake_cflags="$cmake_cflags ${SVK_CONSUMER_CFLAGS-}"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/svk-consumer.XXXXXX")
if [ "${SVK_CONSUMER_KEEP:-0}" = 1 ]; then
    echo "consumer: keeping $tmp"
else
    trap 'rm -rf "$tmp"' EXIT
    trap 'exit 129' HUP INT PIPE TERM
fi
prefix=$tmp/prefix
main=$src/tests/consumer/main.c

say() { echo "consumer: $*"; }
fail() { echo "consumer: FAIL [$step]: $*" >&2; exit 1; }
# canon PATH — the path with every symlink resolved
canon() { readlink -f "$1"; }
# needed FILE — the DT_NEEDED entries of FILE, one a line
needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'; }
# resolved_by_ldd FILE LIB — where the dynamic loader finds LIB for FILE
resolved_by_ldd() { ldd "$1" | awk -v lib="$2" '$1 == lib && $2 == "=>" {print $3}'; }

version=$(sed -n 's/^#define SVK_VERSION_STRING "\(.*\)"$/\1/p' "$src/include/svckit/core.h")
major=${version%%.*}
[ -n "$version" ] || { echo "consumer: no SVK_VERSION_STRING in core.h" >&2; exit 1; }
soname=libsvckit.so.$major

# ------------------------------------------------------------------ install
step=install
say "installing $build into $prefix"
if ! "$cmake" --install "$build" --prefix "$prefix" > "$tmp/install.log" 2>&1; then
    cat "$tmp/install.log" >&2
    fail "cmake --install failed: build.consumer needs a complete build (cmake --build $build)"
fi
pc=$(find "$prefix" -path '*/pkgconfig/svckit.pc' -type f)
[ -n "$pc" ] && [ "$(echo "$pc" | wc -l)" -eq 1 ] || fail "expected one svckit.pc, found: '$pc'"
pcdir=$(dirname "$pc")
libdir=$(dirname "$pcdir")
say "libdir ${libdir#"$prefix"/}, version $version"

# ------------------------------------------------------------------ steps
step_tree() {
    for f in include/svckit/core.h include/svckit/svckit.h; do
        [ -f "$prefix/$f" ] || fail "missing $f"
    done
    real=$libdir/libsvckit.so.$version
    [ -f "$real" ] && [ ! -L "$real" ] || fail "missing regular file ${real#"$prefix"/}"
    [ -L "$libdir/$soname" ] || fail "$soname is not a symlink"
    [ "$(readlink "$libdir/$soname")" = "libsvckit.so.$version" ] \
        || fail "$soname -> $(readlink "$libdir/$soname"), expected libsvckit.so.$version"
    [ -L "$libdir/libsvckit.so" ] || fail "libsvckit.so is not a symlink"
    [ "$(canon "$libdir/libsvckit.so")" = "$(canon "$real")" ] \
        || fail "libsvckit.so does not lead to libsvckit.so.$version"
    so_name=$(readelf -d "$real" | sed -n 's/.*(SONAME).*\[\(.*\)\]$/\1/p')
    [ "$so_name" = "$soname" ] || fail "SONAME '$so_name', expected $soname"
    if readelf -d "$real" | grep -E '\((RPATH|RUNPATH)\)' | grep -qF "$build"; then
        fail "installed libsvckit.so keeps an RPATH into the build tree"
    fi
    [ -f "$libdir/libsvckit.a" ] || fail "missing libsvckit.a"
    for f in svckitConfig.cmake svckitConfigVersion.cmake svckitTargets.cmake; do
        [ -f "$libdir/cmake/svckit/$f" ] || fail "missing ${libdir#"$prefix"/}/cmake/svckit/$f"
    done
    # Relocatable: nothing installed for consumers refers to where it was built.
    leaks=$(grep -lF -e "$build" -e "$src" "$pc" "$libdir"/cmake/svckit/*.cmake || true)
    [ -z "$leaks" ] || fail "build/source paths in installed files: $leaks"
    man3=$prefix/share/man/man3
    [ -f "$man3/svk_strerror.3" ] \
        || fail "missing share/man/man3/svk_strerror.3 (man pages: scripts/gen-man, target svckit_man)"
    MANPAGER=cat PAGER=cat MANWIDTH=80 man -l "$man3/svk_strerror.3" \
        > "$tmp/man.txt" 2> "$tmp/man.err" || { cat "$tmp/man.err" >&2; fail "man -l svk_strerror.3 failed"; }
    if [ -s "$tmp/man.err" ]; then
        say "warnings from man -l svk_strerror.3:"
        cat "$tmp/man.err"
    fi
    grep -q svk_strerror "$tmp/man.txt" || fail "man -l svk_strerror.3 does not mention svk_strerror"
    head -n 5 "$tmp/man.txt"
    say "tree: $(find "$man3" -name '*.3' | wc -l) man pages, headers, libs, .pc, CMake package"
}

step_pc_shared() {
    export PKG_CONFIG_PATH="$pcdir"
    [ "$(pkg-config --modversion svckit)" = "$version" ] || fail "pkg-config --modversion svckit != $version"
    [ "$(canon "$(pkg-config --variable=prefix svckit)")" = "$(canon "$prefix")" ] \
        || fail "svckit.pc prefix $(pkg-config --variable=prefix svckit) is not the install prefix"
    out=$tmp/pc_shared
    # shellcheck disable=SC2046,SC2086
    "$cc" $cflags -MD -MF "$out.d" "$main" -o "$out" $(pkg-config --cflags --libs svckit) $ldflags \
        || fail "compile/link with pkg-config --cflags --libs svckit"
    # the headers used are the installed ones, not the source tree's
    hdr=$(tr ' ' '\n' < "$out.d" | grep '/svckit/core\.h$' | head -n 1)
    [ -n "$hdr" ] && [ "$(canon "$hdr")" = "$(canon "$prefix/include/svckit/core.h")" ] \
        || fail "compiled against '$hdr', not the installed core.h"
    needed "$out" | grep -qx "$soname" || fail "pc_shared does not NEED $soname"
    where=$(LD_LIBRARY_PATH="$libdir" resolved_by_ldd "$out" "$soname")
    [ -n "$where" ] && [ "$(canon "$where")" = "$(canon "$libdir/libsvckit.so.$version")" ] \
        || fail "ldd resolves $soname to '$where', not the installed library"
    LD_LIBRARY_PATH="$libdir" "$out" || fail "pc_shared exited $?"
}

step_pc_static() {
    export PKG_CONFIG_PATH="$pcdir"
    out=$tmp/pc_static
    # libsvckit.a by explicit path; its dependencies (Requires.private) as
    # shared libraries plus the non -l flags of the static set (-pthread).
    # Not `--libs --static`: that lists the full closure for an all-static
    # link (curl's and libpq's private libs: nghttp2, rtmp, ldap, pgcommon...),
    # which needs -dev/static packages that a mixed link does not.
    deps=$(pkg-config --print-requires-private svckit | tr '\n' ' ')
    # shellcheck disable=SC2046,SC2086
    "$cc" $cflags "$main" -o "$out" $(pkg-config --cflags svckit) "$libdir/libsvckit.a" \
        $(pkg-config --libs $deps) $(pkg-config --static --libs-only-other svckit) $ldflags \
        || fail "compile/link against libsvckit.a"
    if needed "$out" | grep -q '^libsvckit\.so'; then
        fail "pc_static NEEDs $(needed "$out" | grep '^libsvckit\.so')"
    fi
    nm "$out" | grep -q ' T svk_version$' || fail "svk_version is not linked into pc_static"
    env -u LD_LIBRARY_PATH "$out" || fail "pc_static exited $?"
}

step_cmake() {
    cb=$tmp/cmake-consumer
    if ! "$cmake" -S "$src/tests/consumer" -B "$cb" -DCMAKE_PREFIX_PATH="$prefix" \
            -DCMAKE_C_COMPILER="$cc" -DCMAKE_C_FLAGS="$cmake_cflags" \
            -DCMAKE_EXE_LINKER_FLAGS="$ldflags" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
            > "$tmp/cmake-configure.log" 2>&1; then
        cat "$tmp/cmake-configure.log" >&2
        fail "configuring tests/consumer (find_package(svckit 0.1 CONFIG))"
    fi
    dir=$(sed -n 's/^svckit_DIR:PATH=//p' "$cb/CMakeCache.txt")
    [ "$(canon "$dir")" = "$(canon "$libdir/cmake/svckit")" ] || fail "found svckit in '$dir', not the prefix"
    if ! "$cmake" --build "$cb" -j 2 > "$tmp/cmake-build.log" 2>&1; then
        cat "$tmp/cmake-build.log" >&2
        fail "building tests/consumer"
    fi
    sh_exe=$cb/consumer_shared
    st_exe=$cb/consumer_static
    needed "$sh_exe" | grep -qx "$soname" || fail "consumer_shared does not NEED $soname"
    # CMake gives the build-tree executable a RUNPATH to the prefix: no LD_LIBRARY_PATH.
    where=$(env -u LD_LIBRARY_PATH ldd "$sh_exe" | awk -v lib="$soname" '$1 == lib {print $3}')
    [ -n "$where" ] && [ "$(canon "$where")" = "$(canon "$libdir/libsvckit.so.$version")" ] \
        || fail "consumer_shared loads $soname from '$where', not the installed library"
    if needed "$st_exe" | grep -q '^libsvckit\.so'; then
        fail "consumer_static NEEDs $(needed "$st_exe" | grep '^libsvckit\.so')"
    fi
    env -u LD_LIBRARY_PATH "$sh_exe" || fail "consumer_shared exited $?"
    env -u LD_LIBRARY_PATH "$st_exe" || fail "consumer_static exited $?"
}

passed=""
failed=""
for step in tree pc-shared pc-static cmake; do
    say "--- $step"
    fn=step_$(echo "$step" | tr - _)
    # A subshell outside any if/||, so that set -e holds inside the step.
    set +e
    (set -e; "$fn")
    rc=$?
    set -e
    if [ "$rc" -eq 0 ]; then
        passed="$passed $step"
    else
        failed="$failed $step"
    fi
done

flags=""
[ -z "$san" ] || flags=" (-fsanitize=$san)"
if [ -n "$failed" ]; then
    echo "consumer: FAILED:$failed; passed:${passed:- none}$flags" >&2
    exit 1
fi
echo "consumer: all passed:$passed — svckit $version installed, built via pkg-config (shared, static) and find_package$flags"
