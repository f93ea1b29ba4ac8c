#!/usr/bin/env bash
# Compiles src/ to dist/ (plain JavaScript, so `berth` starts without the TypeScript loader) and
# copies the non-code assets the modules read next to themselves. bin/berth uses dist/ while it is
# newer than every source file, and the sources through tsx otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf dist.tmp
npx --no-install tsc -p tsconfig.build.json --outDir dist.tmp
cp src/api/openapi/definitions.json dist.tmp/src/api/openapi/
cp src/agent/runtime/process/shim.pl src/agent/runtime/process/spawner.pl dist.tmp/src/agent/runtime/process/
touch dist.tmp/.built
rm -rf dist && mv dist.tmp dist
