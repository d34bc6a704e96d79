#!/usr/bin/env bash
# The main job for a new user: install what is missing, build the release
# preset, and run a stress soak on the built-in defaults (a minute, 4 threads,
# the correct model over real files in a private temp directory).
# Extra arguments go to `pagerace soak`, e.g. --mutant no-invalidate-lock-read.
set -euo pipefail
cd "$(dirname "$0")/.."
ci/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release
exec build/release/pagerace soak "$@"
