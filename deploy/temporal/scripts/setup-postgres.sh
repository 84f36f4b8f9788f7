#!/bin/sh
# Creates and migrates Temporal's two PostgreSQL databases. Safe to rerun:
# `create` ignores an existing database, setup-schema keeps a newer version
# and update-schema applies only missing migrations.
set -eu

: "${POSTGRES_SEEDS:?}" "${POSTGRES_USER:?}" "${DB_PORT:=5432}"
export SQL_PASSWORD="${POSTGRES_PWD:?}"
schema=/etc/temporal/schema/postgresql/v12
sql() { temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -u "$POSTGRES_USER" -p "$DB_PORT" --db "$db" "$@"; }

for db in temporal temporal_visibility; do
  case $db in
    temporal) dir=$schema/temporal/versioned ;;
    *) dir=$schema/visibility/versioned ;;
  esac
  echo "setting up database $db"
  sql create
  sql setup-schema -v 0.0
  sql update-schema -d "$dir"
done
echo "Temporal schemas are ready"
