#!/bin/sh
# Container entry point: turn the secret files that compose / Kubernetes mount under
# /run/secrets/ into the environment variables the platform reads (shared/config.py),
# then run the command. A variable that is already set always wins over its file.
#
#   SECRET_KEY            <- /run/secrets/secret_key
#   SERVICE_SECRET        <- /run/secrets/service_secret
#   SERIAL_SIGNING_KEY    <- /run/secrets/serial_signing_key
#   <SERVICE>_DATABASE_URL <- built from /run/secrets/postgres_password, POSTGRES_USER (trace),
#                            POSTGRES_HOST (postgres), POSTGRES_PORT (5432): database trace_<service>
#   JWT_PUBLIC_KEY_FILE   <- /run/secrets/jwt_public.pem, when that file exists
#   JWT_PRIVATE_KEY_FILE  <- /run/secrets/jwt_private.pem, when that file exists
set -eu

secrets_dir=${SECRETS_DIR:-/run/secrets}

is_unset() { # true when the variable named $1 is unset or empty
  eval "test -z \"\${$1:-}\""
}

from_file() { # VARIABLE FILE: export the file's content (trailing newlines dropped)
  if is_unset "$1" && [ -r "$2" ]; then
    value=$(cat "$2")
    export "$1=$value"
  fi
}

path_from_file() { # VARIABLE FILE: export the file's path
  if is_unset "$1" && [ -r "$2" ]; then
    export "$1=$2"
  fi
}

from_file SECRET_KEY "$secrets_dir/secret_key"
from_file SERVICE_SECRET "$secrets_dir/service_secret"
from_file SERIAL_SIGNING_KEY "$secrets_dir/serial_signing_key"
path_from_file JWT_PUBLIC_KEY_FILE "$secrets_dir/jwt_public.pem"
path_from_file JWT_PRIVATE_KEY_FILE "$secrets_dir/jwt_private.pem"

if [ -r "$secrets_dir/postgres_password" ]; then
  # Percent-encode the password so that any character is safe inside the URL.
  password=$(python -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.stdin.read().strip(), safe=""))' \
    <"$secrets_dir/postgres_password")
  user=${POSTGRES_USER:-trace}
  host=${POSTGRES_HOST:-postgres}
  port=${POSTGRES_PORT:-5432}
  for service in accounts products labels reports; do
    variable="$(echo "$service" | tr '[:lower:]' '[:upper:]')_DATABASE_URL"
    if is_unset "$variable"; then
      export "$variable=postgresql+psycopg://$user:$password@$host:$port/trace_$service"
    fi
  done
  unset password
fi

exec "$@"
