#!/usr/bin/env bash
# System tools the tests drive, from Debian's packages (never a downloaded binary):
#   chromium        the browser tests (Playwright with executable_path)
#   haproxy         the load balancer of `bot cluster` and its tests
#   docker-compose  `docker-compose config` validates deploy/docker-compose.yml (no daemon needed)
#   faketime        libfaketime: the servers under test run on the test session's clock (tests/clock.py)
#   docker.io, debootstrap   only for `make test-deploy` (asked for by name there)
# Usage: scripts/ensure-tools.sh [package ...]   (default: all four)
set -euo pipefail

have() {  # package -> is one of its commands on the PATH?
  case "$1" in
    chromium)
      if [ -n "${CHROMIUM_PATH:-}" ] && [ -x "$CHROMIUM_PATH" ]; then return 0; fi
      command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
        || command -v google-chrome >/dev/null 2>&1 ;;
    faketime) compgen -G "/usr/lib/*/faketime/libfaketime.so.1" >/dev/null ;;
    docker.io) command -v dockerd >/dev/null 2>&1 && command -v docker >/dev/null 2>&1 ;;
    debootstrap) command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] ;;
    *) command -v "$1" >/dev/null 2>&1 ;;
  esac
}

missing=()
for package in "${@:-chromium haproxy docker-compose faketime}"; do
  for p in $package; do have "$p" || missing+=("$p"); done
done
[ ${#missing[@]} -eq 0 ] && exit 0

if command -v apt-get >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "==> Instalando desde Debian: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}" >/dev/null \
    || { $sudo apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}" >/dev/null; }
  exit 0
fi
echo "Faltan herramientas del sistema: ${missing[*]}. Instálalas con tu gestor de paquetes" \
     "(en macOS: brew install chromium haproxy docker-compose libfaketime; o CHROMIUM_PATH=/ruta/a/chromium)." >&2
exit 1
