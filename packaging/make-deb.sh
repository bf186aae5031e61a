#!/usr/bin/env bash
# Builds faceweave_<version>_<arch>.deb from a built tree (make deb): `cmake --install` into a staging root
# under /usr, then the runtime Depends computed by dpkg-shlibdeps from every ELF file in it.
# Usage: packaging/make-deb.sh BUILD_DIR OUT_DIR
set -euo pipefail
build=$(realpath "$1") out=$(realpath -m "$2")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
arch=$(dpkg --print-architecture)
work="$build/deb"
rm -rf "$work" && mkdir -p "$work/root/DEBIAN" "$work/shlibs/debian" "$out"
DESTDIR="$work/root" cmake --install "$build" --prefix /usr >/dev/null
# Debug information stays in the build tree; the package carries stripped files.
find "$work/root/usr/bin" "$work/root/usr/lib" -type f \( -name '*.so*' -o -perm -u+x \) \
  -exec sh -c 'head -c4 "$1" | grep -q ELF && strip --strip-unneeded "$1"' _ {} \;

# dpkg-shlibdeps reads debian/control of a source package; a minimal one is enough.
printf 'Source: faceweave\n\nPackage: faceweave\nArchitecture: any\n' >"$work/shlibs/debian/control"
mapfile -t elves < <(find "$work/root" -type f \( -name '*.so*' -o -perm -u+x \) -exec sh -c \
  'head -c4 "$1" | grep -q ELF && echo "$1"' _ {} \;)
depends=$(cd "$work/shlibs" && dpkg-shlibdeps -O -l"$work/root/usr/lib" "${elves[@]}" 2>/dev/null |
  sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "make-deb: dpkg-shlibdeps found no dependencies" >&2; exit 1; }

installed_kb=$(du -sk "$work/root/usr" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@DEPENDS@/$depends/" -e "s/@SIZE@/$installed_kb/" \
  "$here/control.in" >"$work/root/DEBIAN/control"
deb="$out/faceweave_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz -z6 --build "$work/root" "$deb" >/dev/null
echo "$deb"
