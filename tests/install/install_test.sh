#!/usr/bin/env bash
# cmake --install into a scratch prefix, then: every installed piece is where it belongs, the installed binary
# runs, and a tiny program builds and runs against the installed library both through find_package(faceweave)
# and through pkg-config. Usage: install_test.sh BUILD_DIR SOURCE_DIR VERSION
set -euo pipefail
build=$1 source=$2 version=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >"$work/install.log"
export FACEWEAVE_TELEMETRY=off

fail() { echo "FAIL - $*"; exit 1; }
libdir=$(dirname "$(find "$prefix" -name libfaceweave.so -print -quit)")
[ -n "$libdir" ] || fail "libfaceweave.so is not installed"
for f in bin/faceweave share/faceweave/manifest.json share/faceweave/web/index.html share/faceweave/web/insights/index.html \
         include/faceweave/engine.h include/faceweave/status.h share/man/man1/faceweave.1 \
         share/bash-completion/completions/faceweave share/zsh/vendor-completions/_faceweave; do
  [ -e "$prefix/$f" ] || fail "$f is not installed"
done
for f in "$libdir/cmake/faceweave/faceweaveConfig.cmake" "$libdir/cmake/faceweave/faceweaveConfigVersion.cmake" \
         "$libdir/pkgconfig/faceweave.pc"; do
  [ -e "$f" ] || fail "$f is not installed"
done
readelf -d "$libdir/libfaceweave.so" | grep "SONAME.*libfaceweave.so" >/dev/null || fail "libfaceweave.so has no SONAME"
echo "ok - installed files"

[ "$("$prefix/bin/faceweave" --version)" = "faceweave $version" ] || fail "installed faceweave --version"
echo "ok - installed faceweave --version"

want=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['models']))" "$source/models/manifest.json")

# find_package(faceweave)
cmake -S "$source/tests/install/consumer" -B "$work/cmake-build" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_BUILD_TYPE=Release >"$work/cmake.log" 2>&1 || { cat "$work/cmake.log"; fail "find_package(faceweave)"; }
cmake --build "$work/cmake-build" >"$work/cmake-build.log" 2>&1 || { cat "$work/cmake-build.log"; fail "building with CMake"; }
out=$(LD_LIBRARY_PATH="$libdir" "$work/cmake-build/consumer")
[ "$out" = "models: $want" ] || fail "the CMake-built program said '$out', not 'models: $want'"
ldd "$work/cmake-build/consumer" | grep "$libdir/libfaceweave.so" >/dev/null || fail "the CMake-built program does not use the installed library"
echo "ok - find_package(faceweave): $out"

# pkg-config
export PKG_CONFIG_PATH="$libdir/pkgconfig"
[ "$(pkg-config --modversion faceweave)" = "$version" ] || fail "pkg-config --modversion"
# shellcheck disable=SC2046
c++ -o "$work/pc-consumer" "$source/tests/install/consumer/main.cpp" $(pkg-config --cflags --libs faceweave) \
  2>"$work/pc-build.log" || { cat "$work/pc-build.log"; fail "building with pkg-config"; }
out=$(LD_LIBRARY_PATH="$libdir" "$work/pc-consumer")
[ "$out" = "models: $want" ] || fail "the pkg-config-built program said '$out'"
echo "ok - pkg-config faceweave: $out"
