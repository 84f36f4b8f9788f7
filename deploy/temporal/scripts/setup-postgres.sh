#!/bin/sh
# Creates and migrates Temporal's two PostgreSQL databases with the schemas
# embedded in temporal-sql-tool (so the tool's version is the schema's).
# Run by docker-compose.yml and by the cluster harness (test/cluster).
# Safe to rerun: `create` ignores an existing database, setup-schema keeps a
# newer version and update-schema applies only missing migrations.
set -eu

: "${POSTGRES_SEEDS:?}" "${POSTGRES_USER:?}" "${DB_PORT:=5432}"
export SQL_PASSWORD="${POSTGRES_PWD:?}"
tool=${TEMPORAL_SQL_TOOL:-temporal-sql-tool}
sql() { "$tool" --plugin postgres12 --ep "$POSTGRES_SEEDS" -u "$POSTGRES_USER" -p "$DB_PORT" --db "$db" "$@"; }

for db in "${DBNAME:-temporal}" "${VISIBILITY_DBNAME:-temporal_visibility}"; do
  case $db in
    "${DBNAME:-temporal}") schema=postgresql/v12/temporal ;;
    *) schema=postgresql/v12/visibility ;;
  esac
  echo "setting up database $db"
  sql create
  sql setup-schema -v 0.0
  sql update-schema --schema-name "$schema"
done
echo "Temporal schemas are ready"
