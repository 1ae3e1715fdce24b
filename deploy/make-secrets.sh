#!/usr/bin/env bash
# Generate the production secrets that docker-compose.yml mounts under /run/secrets/:
#
#   deploy/secrets/secret_key         Flask SECRET_KEY
#   deploy/secrets/service_secret     SERVICE_SECRET (service-to-service tokens, HS256)
#   deploy/secrets/serial_signing_key SERIAL_SIGNING_KEY (signatures of printed serials: never
#                                     rotate it while labels printed with it are in use)
#   deploy/secrets/postgres_password  password of the `trace` PostgreSQL role
#   deploy/secrets/jwt_private.pem    RSA private key the accounts service signs tokens with
#   deploy/secrets/jwt_public.pem     its public key, which every service verifies with
#
# Existing files are kept (rotating a secret is a deliberate act: delete the file, run this
# again, restart); --force regenerates all of them. The folder is gitignored and made
# readable by its owner only; the files themselves are world-readable so that the
# containers' non-root users (trace, uid 10001; postgres, uid 999) can read their bind mounts.
#
# Usage: deploy/make-secrets.sh [--force] [DIRECTORY]   (default: deploy/secrets)
set -euo pipefail

force=0
if [ "${1:-}" = "--force" ]; then
  force=1
  shift
fi
dir=${1:-"$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/secrets"}

command -v openssl >/dev/null || { echo "openssl is required" >&2; exit 1; }
mkdir -p "$dir"
chmod 0700 "$dir"
umask 022

wanted() { # true when the file $1 is to be (re)generated
  [ "$force" -eq 1 ] || [ ! -s "$dir/$1" ]
}

random_secret() { # write 48 random bytes, hex-encoded (URL-safe: no escaping anywhere)
  local name=$1
  if wanted "$name"; then
    openssl rand -hex 48 | tr -d '\n' >"$dir/$name.tmp"
    mv "$dir/$name.tmp" "$dir/$name"
    echo "generated $name"
  else
    echo "kept $name"
  fi
}

random_secret secret_key
random_secret service_secret
random_secret serial_signing_key
random_secret postgres_password

if wanted jwt_private.pem || [ ! -s "$dir/jwt_public.pem" ]; then
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "$dir/jwt_private.pem.tmp" 2>/dev/null
  openssl pkey -in "$dir/jwt_private.pem.tmp" -pubout -out "$dir/jwt_public.pem.tmp"
  mv "$dir/jwt_private.pem.tmp" "$dir/jwt_private.pem"
  mv "$dir/jwt_public.pem.tmp" "$dir/jwt_public.pem"
  echo "generated jwt_private.pem and jwt_public.pem (RSA 3072)"
else
  echo "kept jwt_private.pem and jwt_public.pem"
fi

chmod 0644 "$dir"/secret_key "$dir"/service_secret "$dir"/serial_signing_key \
  "$dir"/postgres_password \
  "$dir"/jwt_private.pem "$dir"/jwt_public.pem
echo "secrets are in $dir (keep a backup of it somewhere safe; never commit it)"
