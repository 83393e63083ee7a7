#!/usr/bin/env bash
# Installs the Debian packages that asp-codec builds and tests against.
#
# Idempotent: packages already installed are left alone, and the package lists are refreshed
# only when something is missing. Run as root (CI and developer machines are root).
#
#   pkg-config, clang, libclang-dev   bindgen in ffmpeg-sys-next finds and parses the headers
#   libav*-dev, libswscale-dev        FFmpeg 5.1 (bookworm) for the encoders, decoders, swscale
#   libopus-dev                       the system libopus, linked by the `opus` 0.3 crate
#   ffmpeg                            the command-line tool, an independent decoder in tests
#   nasm                              assembly for the optional rav1e feature
#   meson, ninja-build, xxd           libvmaf-sys builds its vendored libvmaf (asp-vmaf) with meson;
#                                     xxd compiles the built-in VMAF models into it (nasm: its SIMD)
#   srt-tools                         srt-live-transmit, the SRT carrier of the bench's baselines
#                                     (asp::baseline::carriage and its tests)
set -euo pipefail

PACKAGES=(
  pkg-config clang libclang-dev
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libswresample-dev
  libavfilter-dev libavdevice-dev
  meson ninja-build xxd
  libopus-dev ffmpeg nasm srt-tools
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-codec-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

echo "install-codec-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
