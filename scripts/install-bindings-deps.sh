#!/usr/bin/env bash
# Installs what building and testing the foreign-language bindings (uniffi 0.32) needs on a
# fresh Debian machine. Idempotent: prints nothing when everything is already there.
#
# Exports nothing. Paths for other scripts (REPO = the repository root):
#   kotlinc:    $REPO/target/tools/kotlin/node_modules/kotlin-compiler/bin/kotlinc
#   kotlin:     $REPO/target/tools/kotlin/node_modules/kotlin-compiler/bin/kotlin   (runner)
#   JNA jar:    /usr/share/java/jna.jar   (Debian libjna-java 5.13; native part from libjna-jni)
#   coroutines: $REPO/target/tools/kotlin/node_modules/kotlin-compiler/lib/kotlinx-coroutines-core-jvm.jar
#   stdlib:     $REPO/target/tools/kotlin/node_modules/kotlin-compiler/lib/kotlin-stdlib.jar
#               (only for plain `java`; `kotlin` and `kotlinc -include-runtime` add it themselves)
# Compile:  kotlinc GENERATED.kt TESTS.kt -cp "$JNA:$COROUTINES" -d OUT.jar
# Run:      kotlin -cp "OUT.jar:$JNA:$COROUTINES" -Djna.library.path=DIR_OF_SO MainKt
# Python:   pytest (pip), for the Python bindings' tests.
set -euo pipefail

KOTLIN_VERSION=2.4.20
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KOTLIN_PREFIX="$REPO/target/tools/kotlin"
KOTLIN_HOME="$KOTLIN_PREFIX/node_modules/kotlin-compiler"

SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"

# apt: JNA (pulls libjna-jni), plus a JRE and npm only where the machine lacks them.
APT_PACKAGES=(libjna-java)
command -v java >/dev/null 2>&1 || APT_PACKAGES+=(openjdk-17-jre-headless)
command -v npm >/dev/null 2>&1 || APT_PACKAGES+=(npm)
command -v python3 >/dev/null 2>&1 || APT_PACKAGES+=(python3 python3-pytest)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-bindings-deps: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# npm: the Kotlin compiler (kotlinc, kotlin runner, stdlib and kotlinx-coroutines jars),
# project-local. The package's declared npm bin is only kotlinc-js: call bin/kotlinc directly.
if [ ! -x "$KOTLIN_HOME/bin/kotlinc" ] || [ ! -f "$KOTLIN_HOME/lib/kotlinx-coroutines-core-jvm.jar" ] ||
   [ "$(cat "$KOTLIN_HOME/build.txt" 2>/dev/null)" != "$KOTLIN_VERSION" ]; then
  echo "install-bindings-deps: installing kotlin-compiler@$KOTLIN_VERSION into $KOTLIN_PREFIX" >&2
  mkdir -p "$KOTLIN_PREFIX"
  npm install --prefix "$KOTLIN_PREFIX" --no-audit --no-fund --loglevel=error \
    "kotlin-compiler@$KOTLIN_VERSION" >/dev/null
fi

# Python: pytest.
if ! python3 -c 'import pytest' >/dev/null 2>&1; then
  echo "install-bindings-deps: installing pytest" >&2
  PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet pytest
fi
