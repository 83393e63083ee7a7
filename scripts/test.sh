#!/usr/bin/env bash
# The whole test suite: formatting, lints, every test, the docs, and a compile check of the
# fuzz targets. What CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

# The optional features whose system libraries setup.sh installs are built and tested too.
FEATURES=(--features asp/pulse,asp/libusb)

step() { printf '\n==> %s\n' "$*"; }

step "format"
cargo fmt --all -- --check
step "lint"
cargo clippy --workspace --all-targets --locked "${FEATURES[@]}" -- -D warnings
step "docs"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet "${FEATURES[@]}"
step "fuzz targets compile"
cargo check --quiet --manifest-path fuzz/Cargo.toml --bins
step "tests"
cargo test --workspace --all-targets --locked "${FEATURES[@]}"
step "doc tests"
cargo test --workspace --doc --locked "${FEATURES[@]}"
