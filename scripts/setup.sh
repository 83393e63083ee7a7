#!/usr/bin/env bash
# Installs what building and testing asp-rs needs on a fresh Debian machine. Idempotent: a
# machine that has everything is left alone. Sourced by the other scripts.
set -euo pipefail

# iproute2 and nftables: transport tests build network namespaces and drop UDP in them.
# xvfb, xterm, x11-utils: the X11 capture and injection tests run on a private Xvfb.
# xclip: the peer of the X11 clipboard tests.
# libx11-6 ... libxkbcommon-x11-0: what the viewer window (winit, softbuffer) loads at run time.
# libusbredirparser-dev: the real usbredir parser the USB codec's interop test runs against.
# libpulse-dev, pulseaudio: the `pulse` audio feature and the private sound server its tests start.
# libusb-1.0-0-dev: the `libusb` feature (real USB devices on the client).
APT_PACKAGES=(build-essential pkg-config git ca-certificates iproute2 nftables xvfb xterm xclip x11-utils
  libx11-6 libx11-xcb1 libxcb1 libxcursor1 libxi6 libxkbcommon-x11-0 libusbredirparser-dev
  libpulse-dev pulseaudio libusb-1.0-0-dev)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Media: FFmpeg, Opus and the tools asp-codec builds and tests with.
"$(dirname "${BASH_SOURCE[0]}")/install-codec-deps.sh"
# The bindings' tests: JNA and a Kotlin compiler, pytest.
"$(dirname "${BASH_SOURCE[0]}")/install-bindings-deps.sh"

if [ -d "$HOME/.cargo/bin" ]; then
  export PATH="$HOME/.cargo/bin:$PATH"
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: no Rust toolchain found. asp-rs needs Rust 1.85 or newer (rustup, or your" >&2
  echo "       distribution's rustc/cargo if recent enough); install it and run this again." >&2
  exit 1
fi
rustc_minor=$(rustc --version | sed -E 's/^rustc 1\.([0-9]+).*/\1/')
if [ "$rustc_minor" -lt 85 ]; then
  echo "setup: $(rustc --version) is too old; asp-rs needs Rust 1.85 or newer." >&2
  exit 1
fi
for component in rustfmt clippy; do
  if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
    if command -v rustup >/dev/null 2>&1; then
      rustup component add "$component"
    else
      echo "setup: cargo $component is missing and there is no rustup to add it" >&2
      exit 1
    fi
  fi
done
