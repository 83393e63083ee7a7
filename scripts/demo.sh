#!/usr/bin/env bash
# The main job: `asp demo`, a server and a client on loopback QUIC in one process (1080p60
# synthetic office scene, software x264), with a live status line and a summary at the end.
# Arguments go to `asp demo`: --seconds N, --scene office|video|3d|idle, --json PATH, ...
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
exec cargo run --quiet --release -p asp -- demo "$@"
