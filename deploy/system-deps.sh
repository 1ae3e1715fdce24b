#!/usr/bin/env bash
# Install the Debian/Ubuntu packages the platform needs, only where missing.
# Today: Python 3.11+ with venv; for label PDFs (WeasyPrint), Pango, HarfBuzz's subsetter
# and the DejaVu fonts (every Vietnamese letter); Node.js and npm (htmx); for the tests, Chromium.
set -euo pipefail
need=()
python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
  || { echo "Python 3.11 or newer is required" >&2; exit 1; }
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
# Label PDFs: WeasyPrint lays text out with Pango and subsets fonts with HarfBuzz (without
# libharfbuzz-subset it falls back to fontTools, slower and not byte-for-byte reproducible);
# DejaVu Sans for the text, DejaVu Sans Mono Bold for the printed codes.
has_pkg() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }
for pkg in libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0; do
  has_pkg "$pkg" || need+=("$pkg")
done
dejavu=/usr/share/fonts/truetype/dejavu
[ -f "$dejavu/DejaVuSans.ttf" ] || need+=(fonts-dejavu-core)
mono_missing=false
[ -f "$dejavu/DejaVuSansMono-Bold.ttf" ] || mono_missing=true
# npm fetches htmx for the pages (deploy/web-assets.sh) and, for the tests, GS1's EPCIS JSON
# schema, both from the npm registry.
command -v npm >/dev/null || need+=(nodejs npm)
# Tests only (`--dev`): the browser tests drive Debian's Chromium through Playwright
# (no browser download; tests/browser/).
if [ "${1:-}" = "--dev" ]; then
  command -v chromium >/dev/null || need+=(chromium)
fi
if [ ${#need[@]} -gt 0 ] || $mono_missing; then
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "missing system packages: ${need[*]} (install them as root)" >&2; exit 1; fi
  $SUDO apt-get update -qq
  if $mono_missing; then  # Debian 13 moved the monospaced faces to their own package
    if apt-cache show fonts-dejavu-mono >/dev/null 2>&1; then need+=(fonts-dejavu-mono)
    else need+=(fonts-dejavu-core); fi
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi
