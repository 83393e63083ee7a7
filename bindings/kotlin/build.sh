#!/usr/bin/env bash
# Builds the Kotlin bindings into OUTDIR/asp.jar (package uniffi.asp), with any extra Kotlin
# sources given (the tests, say). Needs scripts/install-bindings-deps.sh (kotlinc, JNA).
#   bindings/kotlin/build.sh                          release build, jar in bindings/kotlin/build
#   bindings/kotlin/build.sh LIBDIR OUTDIR [X.kt...]  use the library already built in LIBDIR
# Run with: kotlin -cp "OUTDIR/asp.jar:$JNA:$COROUTINES" -Djna.library.path=LIBDIR MainKt
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
LIBDIR=${1:-}
OUTDIR=${2:-$HERE/build}
shift $(( $# > 2 ? 2 : $# ))
if [ -z "$LIBDIR" ]; then
  (cd "$REPO" && cargo build --release --locked -p asp-ffi)
  LIBDIR="$REPO/target/release"
fi
KOTLIN_HOME="$REPO/target/tools/kotlin/node_modules/kotlin-compiler"
JNA=/usr/share/java/jna.jar
COROUTINES="$KOTLIN_HOME/lib/kotlinx-coroutines-core-jvm.jar"
for f in "$KOTLIN_HOME/bin/kotlinc" "$JNA" "$COROUTINES"; do
  [ -e "$f" ] || { echo "build.sh: $f is missing: run scripts/install-bindings-deps.sh" >&2; exit 1; }
done
mkdir -p "$OUTDIR"
(cd "$REPO" && "$LIBDIR/uniffi-bindgen" generate --no-format --library "$LIBDIR/libasp_ffi.so" \
  --language kotlin --out-dir "$OUTDIR/generated" >/dev/null)
"$KOTLIN_HOME/bin/kotlinc" "$OUTDIR/generated/uniffi/asp/asp.kt" "$@" -nowarn -cp "$JNA:$COROUTINES" -d "$OUTDIR/asp.jar"
echo "$OUTDIR/asp.jar"
