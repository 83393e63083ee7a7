#!/usr/bin/env bash
# criterion micro-benchmarks of the engine (send path, receive path, parser). Results land in
# target/criterion; compare runs made in one sitting on this shared machine, not across days.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
exec cargo bench -p asp-benches "$@"
