#!/bin/sh
# Regenerate the man page (doc/nlstat.1) and the bash, zsh and fish
# completions (doc/completions/) from the clap definition in src/cli/ and
# sections of README.md and doc/*.md; commit what changes. The test suite
# fails while the committed files differ from what this writes.
set -eu
cd "$(dirname "$0")/.."
cargo run --quiet --locked --example gen_docs -- "$(pwd)"
