#!/bin/sh
# Build a Debian package of nlstat with dpkg-deb. The control fields come
# from Cargo.toml ([package] and [package.metadata.debian]); the files are
# what scripts/install.sh installs under /usr (binary, man page, bash, zsh
# and fish completions), the man page gzipped as Debian policy wants. The
# package ships no netstat and conflicts with nothing: net-tools' netstat
# stays the system's. Depends comes from dpkg-shlibdeps (dpkg-dev).
#
# usage: scripts/build-deb.sh [--out DIR] [--bin FILE]
#   --out DIR   where the .deb goes (default target/debian); its path is
#               the last line printed
#   --bin FILE  package this binary (default: scripts/install.sh builds it
#               with cargo build --release --locked, in CARGO_TARGET_DIR if
#               set, and packages the executable cargo reports); stripped
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/target/debian
bin=
while [ "$#" -gt 0 ]; do
    case "$1" in
        --out) out=$2; shift 2 ;;
        --bin) bin=$2; shift 2 ;;
        -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "build-deb.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
for tool in dpkg-deb dpkg-shlibdeps python3 gzip; do
    command -v "$tool" >/dev/null || {
        echo "build-deb.sh: $tool is missing (apt-get install dpkg-dev python3 gzip)" >&2
        exit 1
    }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage=$work/root

# without --bin, install.sh builds the binary and stages what cargo built
if [ -n "$bin" ]; then
    set -- --bin "$bin"
fi
"$root/scripts/install.sh" --prefix /usr --destdir "$stage" "$@" >/dev/null
gzip -9n "$stage/usr/share/man/man1/nlstat.1"

# control fields from Cargo.toml
python3 - "$root/Cargo.toml" "$work/description" >"$work/fields" <<'EOF'
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    package = tomllib.load(f)["package"]
deb = package.get("metadata", {}).get("debian", {})
print(f"NAME={package['name']}")
print(f"VERSION={package['version']}")
print(f"LICENSE={package['license']}")
print(f"DESCRIPTION={package['description']}")
print(f"MAINTAINER={deb['maintainer']}")
print(f"SECTION={deb.get('section', 'net')}")
print(f"PRIORITY={deb.get('priority', 'optional')}")
# the extended description: each line indented, " ." between paragraphs
lines = []
for paragraph in deb.get("extended-description", "").strip().split("\n\n"):
    if lines:
        lines.append(" .")
    lines.extend(" " + line.strip() for line in paragraph.strip().splitlines())
with open(sys.argv[2], "w") as f:
    f.write("".join(line + "\n" for line in lines))
EOF
field() { sed -n "s/^$1=//p" "$work/fields"; }
name=$(field NAME)
version=$(field VERSION)

install -d "$stage/usr/share/doc/$name"
cat >"$stage/usr/share/doc/$name/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: $name

Files: *
License: $(field LICENSE)
EOF

# Depends: the shared libraries the binary links, as dpkg-shlibdeps names
# their packages (it wants a debian/control beside it)
mkdir -p "$work/shlibs/debian"
printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$name" "$name" >"$work/shlibs/debian/control"
depends=$(cd "$work/shlibs" && dpkg-shlibdeps -O "$stage/usr/bin/nlstat" 2>/dev/null |
    sed -n 's/^shlibs:Depends=//p')

arch=$(dpkg --print-architecture)
size=$(du -sk "$stage" | cut -f1)
install -d "$stage/DEBIAN"
{
    echo "Package: $name"
    echo "Version: $version"
    echo "Architecture: $arch"
    echo "Maintainer: $(field MAINTAINER)"
    echo "Installed-Size: $size"
    [ -n "$depends" ] && echo "Depends: $depends"
    echo "Section: $(field SECTION)"
    echo "Priority: $(field PRIORITY)"
    echo "Description: $(field DESCRIPTION)"
    cat "$work/description"
} >"$stage/DEBIAN/control"

mkdir -p "$out"
deb=$out/${name}_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "$deb"
