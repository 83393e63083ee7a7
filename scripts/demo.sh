#!/usr/bin/env bash
# The main job: a simulated ASP session with live statistics, then the engine's figures.
# Arguments go to the example: --seconds N, --seed S, --json PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
exec cargo run --quiet --release -p asp-core --example simulate -- "$@"
