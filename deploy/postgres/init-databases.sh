#!/bin/bash
# Run once by the postgres image on an empty data directory (/docker-entrypoint-initdb.d):
# one database per service, owned by the application role ($POSTGRES_USER).
# Idempotent, so it can also be run by hand against an existing server to add a database.
set -euo pipefail

databases=${TRACE_DATABASES:-"trace_accounts trace_products trace_labels trace_reports"}
owner=${POSTGRES_USER:-trace}

for database in $databases; do
  psql -v ON_ERROR_STOP=1 --username "$owner" --dbname postgres \
    -v database="$database" -v owner="$owner" <<'SQL'
SELECT format('CREATE DATABASE %I OWNER %I', :'database', :'owner')
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'database')
\gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'database')
\gexec
SQL
  echo "database $database ready (owner $owner)"
done
