#!/usr/bin/env bash
# Base images for Docker hosts that reach no image registry (README, «Despliegue»): a
# debootstrap'd Debian imported with `docker import`, then on top of it Python, Node (the
# build stage only), PostgreSQL, Redis and HAProxy, all from Debian's packages except Python
# (python.Dockerfile says why). Each image is skipped when it already exists, so a second
# run takes a second. Hosts with a registry need none of this: the Dockerfile and compose
# default to the official images (python:3.10-slim, postgres:15, redis:7, haproxy:2.6).
set -euo pipefail
cd "$(dirname "$0")/.."
SUITE="${PREPAGO_DEBIAN_SUITE:-bookworm}"
MIRROR="${PREPAGO_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
PG_MAJOR="${PREPAGO_PG_MAJOR:-15}"   # bookworm's PostgreSQL, as the official postgres:15
DEBIAN_IMAGE="prepago/debian:$SUITE"

have() { docker image inspect "$1" >/dev/null 2>&1; }

if ! have "$DEBIAN_IMAGE"; then
    command -v debootstrap >/dev/null || [ -x /usr/sbin/debootstrap ] || apt-get install -y debootstrap
    rootfs="$(mktemp -d /var/tmp/prepago-rootfs.XXXXXX)"
    trap 'rm -rf "$rootfs"' EXIT
    echo "==> debootstrap $SUITE (minbase)"
    debootstrap --variant=minbase "$SUITE" "$rootfs" "$MIRROR" >/dev/null
    # Security updates too, like any Debian image; then no apt lists or .debs in the layer.
    echo "deb $MIRROR $SUITE main" >"$rootfs/etc/apt/sources.list"
    echo "deb $MIRROR $SUITE-updates main" >>"$rootfs/etc/apt/sources.list"
    echo "deb ${MIRROR%/debian}/debian-security $SUITE-security main" >>"$rootfs/etc/apt/sources.list"
    # Containers need no recommended packages.
    printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' \
        >"$rootfs/etc/apt/apt.conf.d/90prepago-minimal"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -c . | docker import -c 'CMD ["bash"]' -c 'ENV LANG=C.UTF-8' - "$DEBIAN_IMAGE" >/dev/null
    rm -rf "$rootfs"
    trap - EXIT
fi

# The build context: deploy/base, this host's local CA certificates (public certificates of
# the trust anchors the host added, e.g. a proxy that inspects TLS, so pip and npm inside the
# builds trust what the host trusts; none on most hosts) and the project's Python.
context="$(mktemp -d /var/tmp/prepago-base-context.XXXXXX)"
trap 'rm -rf "$context"' EXIT
cp -r deploy/base/. "$context/"
mkdir -p "$context/local-ca" "$context/python"
cp /usr/local/share/ca-certificates/*.crt "$context/local-ca/" 2>/dev/null || true

build() {  # build NAME TAG [ARGS...]: deploy/base/NAME.Dockerfile on the Debian image
    local name="$1" tag="$2"; shift 2
    have "$tag" && return 0
    echo "==> $tag"
    docker build --network host -q -f "$context/$name.Dockerfile" \
        --build-arg DEBIAN_BASE="$DEBIAN_IMAGE" "$@" -t "$tag" "$context" >/dev/null
}

python="$(scripts/find-python.sh)"
version="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
if ! have "prepago/python:$version-$SUITE"; then
    prefix="$("$python" -c 'import sys; print(sys.base_prefix)')"
    # The interpreter and its standard library, without its test suite or anything a host
    # tool added to its site-packages (only pip and setuptools go along).
    tar -C "$prefix" -c --exclude="lib/python$version/test" --exclude="lib/python$version/*/tests" \
        --exclude='__pycache__' --exclude="lib/python$version/site-packages/*.pth" \
        bin include lib | tar -C "$context/python" -x
    cp "$prefix/lib/python$version/site-packages/distutils-precedence.pth" \
        "$context/python/lib/python$version/site-packages/" 2>/dev/null || true
fi
build python   "prepago/python:$version-$SUITE" --build-arg PYTHON_VERSION="$version"
build node     "prepago/node:$SUITE"
build postgres "prepago/postgres:$PG_MAJOR-$SUITE" --build-arg PG_MAJOR="$PG_MAJOR"
build redis    "prepago/redis:$SUITE"
build haproxy  "prepago/haproxy:$SUITE"
