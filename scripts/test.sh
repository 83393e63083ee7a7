#!/usr/bin/env bash
# The whole test suite: formatting, lints, every test, the docs, and a compile check of the
# fuzz targets. What CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

step() { printf '\n==> %s\n' "$*"; }

step "format"
cargo fmt --all -- --check
step "lint"
cargo clippy --workspace --all-targets --locked -- -D warnings
step "docs"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet
step "fuzz targets compile"
cargo check --quiet --manifest-path fuzz/Cargo.toml --bins
step "tests"
cargo test --workspace --all-targets --locked
step "doc tests"
cargo test --workspace --doc --locked
