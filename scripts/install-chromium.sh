#!/bin/sh
# Install Debian's Chromium for the browser tests (never a browser download by Playwright).
set -e
if command -v chromium >/dev/null 2>&1; then exit 0; fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y -q chromium >/dev/null 2>&1 || { $SUDO apt-get update -q && $SUDO apt-get install -y -q chromium; }
command -v chromium
