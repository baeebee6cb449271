#!/bin/sh
# First start of the PostGIS container: the extension and the application's LOGIN role (not the owner).
# `iolaos audit grant-app-role iolaos_app` (the compose `migrate` service) then grants its privileges.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v app_password="$APP_DB_PASSWORD" <<'SQL'
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE ROLE iolaos_app LOGIN PASSWORD :'app_password';
SQL
