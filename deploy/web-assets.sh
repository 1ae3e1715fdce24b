#!/usr/bin/env bash
# Fetch the pages' one third-party script, htmx, from the npm registry into
# shared/static/vendor/ (ignored by git), checking the registry's published integrity.
# Idempotent: nothing is fetched when the pinned version is already in place. The pages work
# without it (plain forms and a meta refresh); it only adds live progress and inline updates.
set -euo pipefail
VERSION=2.0.8
INTEGRITY="sha512-fm297iru0iWsNJlBrjvtN7V9zjaxd+69Oqjh4F/Vq9Wwi2kFisLcrLCiv5oBX0KLfOX/zG8AUo9ROMU5XUB44Q=="
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/shared/static/vendor"
stamp="$dest/htmx.version"
if [ -f "$dest/htmx.min.js" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$VERSION" ]; then
  exit 0
fi
command -v npm >/dev/null || { echo "npm is needed once to fetch htmx (deploy/system-deps.sh installs it)" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "htmx.org@$VERSION" >/dev/null)
tarball="$(ls "$work"/htmx.org-*.tgz)"
actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
if [ "$actual" != "$INTEGRITY" ]; then
  echo "htmx.org@$VERSION: integrity mismatch ($actual)" >&2; exit 1
fi
tar -xzf "$tarball" -C "$work" package/dist/htmx.min.js
mkdir -p "$dest"
cp "$work/package/dist/htmx.min.js" "$dest/htmx.min.js"
echo "$VERSION" > "$stamp"
echo "htmx $VERSION → shared/static/vendor/htmx.min.js"
