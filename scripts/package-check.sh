#!/usr/bin/env bash
# Packages every publishable crate and builds each one from its package, the way a user of
# crates.io would get it.
#
# `cargo package` builds a dependent crate (the CLI) against the freshly packaged library
# through a temporary local registry. Cargo unpacks that registry's crates into
# $CARGO_HOME/registry/src/-<hash of the registry's path>/ and, since registry crates are
# taken as immutable, reuses an unpacked copy or a built artifact from an earlier run of the
# same version: the CLI would then be built against an old library. So the check uses a target
# directory of its own (a new registry path, so a new hash) and removes its unpacked copies
# when it ends.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo_home="${CARGO_HOME:-$HOME/.cargo}"
target_dir="$(mktemp -d "${TMPDIR:-/tmp}/agent-trace-package.XXXXXX")"
# Unpacked copies of our own crates from a local (unnamed, so "-<hash>") registry only.
remove_unpacked() { rm -rf "$cargo_home"/registry/src/-*/agent-trace-otel-*; }
trap 'rm -rf "$target_dir"; remove_unpacked' EXIT
remove_unpacked
cargo package --target-dir "$target_dir" \
  -p agent-trace-otel-macros -p agent-trace-otel -p agent-trace-otel-cli "$@"
