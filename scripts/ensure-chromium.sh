#!/usr/bin/env bash
# The browser tests drive the system's Chromium through Playwright; they never
# download a browser. Install Debian's package when it is missing and we can.
set -euo pipefail
for name in chromium chromium-browser google-chrome; do
  if command -v "$name" >/dev/null 2>&1; then exit 0; fi
done
if [ -n "${CHROMIUM_PATH:-}" ] && [ -x "$CHROMIUM_PATH" ]; then exit 0; fi
if command -v apt-get >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "==> Installing Chromium for the browser tests (Debian package 'chromium')"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q chromium >/dev/null \
    || { $sudo apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q chromium >/dev/null; }
  exit 0
fi
echo "The browser tests need Chromium: install it, or set CHROMIUM_PATH=/path/to/chromium." >&2
exit 1
