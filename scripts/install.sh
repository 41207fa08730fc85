#!/bin/sh
# Install nlstat, its man page and its bash, zsh and fish completions under
# a prefix; with --as-netstat also `netstat` and netstat(8) as links to them,
# for hosts without net-tools. The same layout goes into the .deb
# (scripts/build-deb.sh stages it with --destdir).
#
# The binary is installed stripped: the release profile keeps line tables
# (Cargo.toml, for perf and the benchmarks), which triple its size, and an
# installed tool has no use for them. The build under target/ keeps them.
set -eu

usage() {
    cat <<'EOF'
usage: scripts/install.sh [--prefix DIR] [--as-netstat] [--bin FILE] [--destdir DIR] [--force] [--no-strip]

  --prefix DIR    install under DIR (default /usr/local):
                    DIR/bin/nlstat
                    DIR/share/man/man1/nlstat.1
                    DIR/share/bash-completion/completions/nlstat
                    DIR/share/zsh/site-functions/_nlstat
                    DIR/share/fish/vendor_completions.d/nlstat.fish
  --as-netstat    also DIR/bin/netstat -> nlstat and
                  DIR/share/man/man8/netstat.8 -> ../man1/nlstat.1
                  (never over a netstat that is not such a link)
  --bin FILE      install this binary (default: build it with
                  `cargo build --release --locked`, in CARGO_TARGET_DIR
                  if set, and install the executable cargo reports)
  --destdir DIR   stage everything under DIR (for packaging)
  --force         with --as-netstat, replace a netstat that is not a link
                  to nlstat
  --no-strip      install the binary as it is (by default its symbols and
                  debug information are stripped with `strip`)
EOF
}

root=$(cd "$(dirname "$0")/.." && pwd)
prefix=/usr/local
destdir=
bin=
as_netstat=0
force=0
strip=1
while [ "$#" -gt 0 ]; do
    case "$1" in
        --prefix) [ "$#" -ge 2 ] || { usage >&2; exit 2; }; prefix=$2; shift 2 ;;
        --prefix=*) prefix=${1#*=}; shift ;;
        --destdir) [ "$#" -ge 2 ] || { usage >&2; exit 2; }; destdir=$2; shift 2 ;;
        --destdir=*) destdir=${1#*=}; shift ;;
        --bin) [ "$#" -ge 2 ] || { usage >&2; exit 2; }; bin=$2; shift 2 ;;
        --bin=*) bin=${1#*=}; shift ;;
        --as-netstat) as_netstat=1; shift ;;
        --force) force=1; shift ;;
        --no-strip) strip=0; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "install.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
    esac
done
case "$prefix" in
    /*) ;;
    *) echo "install.sh: --prefix must be an absolute path, not '$prefix'" >&2; exit 2 ;;
esac

if [ "$strip" -eq 1 ] && ! command -v strip >/dev/null; then
    echo "install.sh: strip is missing (apt-get install binutils; --no-strip installs unstripped)" >&2
    exit 1
fi

if [ -z "$bin" ]; then
    # the executable cargo reports, wherever its target directory is
    # (CARGO_TARGET_DIR, .cargo/config.toml), not a guessed target/release
    messages=$(mktemp)
    trap 'rm -f "$messages"' EXIT
    (cd "$root" && cargo build --release --locked --bin nlstat \
        --message-format=json-render-diagnostics) >"$messages"
    bin=$(sed -n 's/^{"reason":"compiler-artifact".*"executable":"\([^"]*\)".*$/\1/p' "$messages" | tail -n 1)
    [ -n "$bin" ] || { echo "install.sh: cargo reported no nlstat executable" >&2; exit 1; }
fi
[ -x "$bin" ] || { echo "install.sh: $bin is not an executable" >&2; exit 1; }
for f in doc/nlstat.1 doc/completions/nlstat.bash doc/completions/_nlstat \
         doc/completions/nlstat.fish; do
    [ -f "$root/$f" ] || { echo "install.sh: $root/$f is missing" >&2; exit 1; }
done

top=$destdir$prefix
bindir=$top/bin
man1=$top/share/man/man1
man8=$top/share/man/man8

# --as-netstat must not replace net-tools' netstat: check before installing
# anything, so that a refusal leaves the prefix as it was.
refuse_unless_ours() { # PATH TARGET: fine if absent or already a link to TARGET
    if [ -e "$1" ] || [ -L "$1" ]; then
        if [ -L "$1" ] && [ "$(readlink "$1")" = "$2" ]; then
            return 0
        fi
        if [ "$force" -eq 0 ]; then
            echo "install.sh: $1 exists and is not a link to $2; not replacing it (--force does)" >&2
            exit 1
        fi
    fi
}
if [ "$as_netstat" -eq 1 ]; then
    refuse_unless_ours "$bindir/netstat" nlstat
    refuse_unless_ours "$man8/netstat.8" ../man1/nlstat.1
fi

install -d "$bindir" "$man1" "$top/share/bash-completion/completions" \
    "$top/share/zsh/site-functions" "$top/share/fish/vendor_completions.d"
install -m 0755 "$bin" "$bindir/nlstat"
if [ "$strip" -eq 1 ]; then
    strip "$bindir/nlstat"
fi
install -m 0644 "$root/doc/nlstat.1" "$man1/nlstat.1"
install -m 0644 "$root/doc/completions/nlstat.bash" "$top/share/bash-completion/completions/nlstat"
install -m 0644 "$root/doc/completions/_nlstat" "$top/share/zsh/site-functions/_nlstat"
install -m 0644 "$root/doc/completions/nlstat.fish" "$top/share/fish/vendor_completions.d/nlstat.fish"
echo "installed nlstat under $top"

if [ "$as_netstat" -eq 1 ]; then
    install -d "$man8"
    ln -sfn nlstat "$bindir/netstat"
    ln -sfn ../man1/nlstat.1 "$man8/netstat.8"
    echo "installed netstat -> nlstat and netstat.8 -> nlstat.1 under $top"
fi
