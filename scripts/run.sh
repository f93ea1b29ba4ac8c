#!/usr/bin/env bash
# The main command (README): installs what is needed and starts a single-node cluster (`berth up`).
# Extra arguments go to `berth up`, e.g. `npm start -- --data-dir /tmp/b --listen 127.0.0.1:6444`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec bin/berth up "$@"
