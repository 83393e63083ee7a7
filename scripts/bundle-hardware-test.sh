#!/usr/bin/env bash
# Packs asp-codec's hardware probe test with the shared libraries it links (Debian's FFmpeg
# and its codecs, and Debian's loader and libc), so that it can run on a GPU machine whose
# distribution differs (for example the device machines, Ubuntu 24.04 with the NVIDIA driver
# libraries in /usr/local/nvidia/lib64 and /lib).
#
#   scripts/bundle-hardware-test.sh OUT.tar.xz
#
# On the GPU machine:
#   mkdir -p /tmp/g && tar xJf OUT.tar.xz -C /tmp/g && cd /tmp/g/gpu &&
#   ./lib/ld-linux-x86-64.so.2 --library-path ./lib:/usr/local/nvidia/lib64:/lib:/usr/lib/x86_64-linux-gnu \
#     ./hardware --nocapture --test-threads 1
#
# The archive is about 45 MB. The driver's own libraries (libcuda, libnvidia-encode,
# libnvcuvid) are not packed: FFmpeg loads them from the GPU machine at run time.
set -euo pipefail
out=${1:?usage: $0 OUT.tar.xz}
root=$(cd "$(dirname "$0")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
cargo test -p asp-codec --test hardware --no-run
bin=$(ls -t "$CARGO_TARGET_DIR"/debug/deps/hardware-* | grep -v '\.d$' | head -1)
work=$(mktemp -d)
mkdir -p "$work/gpu/lib"
cp "$bin" "$work/gpu/hardware"
ldd "$bin" | awk '{print $3}' | grep '^/' | xargs -I{} cp -L {} "$work/gpu/lib/"
cp -L /lib64/ld-linux-x86-64.so.2 "$work/gpu/lib/"
tar cf - -C "$work" gpu | xz -T1 -6 > "$out"
rm -rf "$work"
ls -l "$out"
