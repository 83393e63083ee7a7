#!/usr/bin/env bash
# Builds the Python package asp_sdk: the uniffi-generated asp.py and libasp_ffi.so beside
# asp_sdk/__init__.py.
#   bindings/python/build.sh                  release build, package in place (then: pip install bindings/python)
#   bindings/python/build.sh LIBDIR OUTDIR    use the library already built in LIBDIR (target/debug, say)
#                                             and write OUTDIR/asp_sdk
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
LIBDIR=${1:-}
OUTDIR=${2:-$HERE}
if [ -z "$LIBDIR" ]; then
  (cd "$REPO" && cargo build --release --locked -p asp-ffi)
  LIBDIR="$REPO/target/release"
fi
mkdir -p "$OUTDIR/asp_sdk"
# uniffi-bindgen reads the workspace's metadata, so it runs from inside it.
(cd "$REPO" && "$LIBDIR/uniffi-bindgen" generate --no-format --library "$LIBDIR/libasp_ffi.so" \
  --language python --out-dir "$OUTDIR/asp_sdk" >/dev/null)
cp "$LIBDIR/libasp_ffi.so" "$OUTDIR/asp_sdk/"
[ "$OUTDIR" = "$HERE" ] || cp "$HERE/asp_sdk/__init__.py" "$OUTDIR/asp_sdk/"
