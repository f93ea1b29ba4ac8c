#!/usr/bin/env bash
# Compiles src/ to dist/ (plain JavaScript, so `berth` starts without the TypeScript loader), copies
# the non-code assets the modules read next to themselves, and builds the agent's C programs
# (native/shim -> native/build/berth-shim, native/spawner -> native/build/berth-spawner; the agent
# rebuilds one itself when it is stale) and the web UI (src/ui -> dist/ui). bin/berth uses dist/ while it is
# newer than every source file, and the sources through tsx otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf dist.tmp
npx --no-install tsc -p tsconfig.build.json --outDir dist.tmp
cp src/apis/openapi/definitions.json dist.tmp/src/apis/openapi/
# The web UI (src/ui): bundled for the browser by esbuild; the API server serves dist/ui at /ui/.
node --import tsx src/ui/build.ts dist.tmp/ui
node --import tsx -e "import('./src/host/native-binary.ts').then((m) => { m.compileNative('native/shim', 'native/build/berth-shim'); m.compileNative('native/spawner', 'native/build/berth-spawner'); })"
touch dist.tmp/.built
rm -rf dist && mv dist.tmp dist
