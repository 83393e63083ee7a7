#!/usr/bin/env bash
# Runs every cargo-fuzz target for SECONDS each (default 60). Installs cargo-fuzz if needed.
# The stable toolchain runs it with RUSTC_BOOTSTRAP=1, which unlocks the sanitizer flags
# cargo-fuzz passes to rustc.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
seconds="${1:-60}"
command -v cargo-fuzz >/dev/null 2>&1 || cargo install --locked cargo-fuzz
export RUSTC_BOOTSTRAP=1
targets=$(cargo fuzz list --fuzz-dir fuzz)
for t in $targets; do
  echo "==> fuzzing $t for ${seconds}s"
  mkdir -p "fuzz/corpus/$t"
  cargo fuzz run --fuzz-dir fuzz "$t" "fuzz/corpus/$t" -- -max_total_time="$seconds" -rss_limit_mb=2048
done
echo "all fuzz targets ran ${seconds}s without a crash"
