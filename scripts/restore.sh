#!/usr/bin/env bash
# Restores a dump of scripts/backup.sh (pg_dump -Fc) into a database:
# pg_restore --clean --if-exists --no-owner --no-privileges, in one
# transaction (an error leaves the target as it was), stopping at the first
# error.
#
#   scripts/restore.sh DUMP_FILE DATABASE_URL [--force]
#   RESTORE_VIA_COMPOSE=1 scripts/restore.sh DUMP_FILE [DATABASE] [--force]
#
# The target database must exist (createdb). It is refused when it already
# holds tables, views or sequences, unless --force: then the objects the dump
# has are dropped and restored, others are left alone.
#
# RESTORE_VIA_COMPOSE=1 restores inside the `postgres` service of the
# repository's docker-compose.yml (the dump is streamed in), as its
# POSTGRES_USER, into DATABASE (default: its POSTGRES_DB). Stop what writes
# to it first: docker compose stop gateway-1 gateway-2 writer bot.
#
# A password in DATABASE_URL goes to libpq through PGPASSWORD, never onto a
# command line or into a log. Reads the environment only, never .env.
# Checked by scripts/check-backup.sh.
set -euo pipefail

# shellcheck source=scripts/backup.sh
source "$(dirname "${BASH_SOURCE[0]}")/backup.sh"

# Relations in the target's own schemas (not the catalogs).
COUNT_RELATIONS_SQL="SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
    AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'"

RESTORE_FLAGS="--clean --if-exists --no-owner --no-privileges --single-transaction --exit-on-error"

restore_main() {
  local via="${RESTORE_VIA_COMPOSE:-0}" force="" dump="" target="" arg
  for arg in "$@"; do
    case "$arg" in
      --force) force=1 ;;
      -*) die "unknown option $arg" ;;
      *)
        if [[ -z "$dump" ]]; then dump=$arg
        elif [[ -z "$target" ]]; then target=$arg
        else die "usage: scripts/restore.sh DUMP_FILE DATABASE_URL [--force]"
        fi
        ;;
    esac
  done
  [[ -n "$dump" ]] || die "usage: scripts/restore.sh DUMP_FILE DATABASE_URL [--force]"
  [[ -n "$target" || "$via" == 1 ]] || die "usage: scripts/restore.sh DUMP_FILE DATABASE_URL [--force]"

  local total=3 shown relations entries
  phase 1 "$total" "checking $dump and the target"
  [[ -r "$dump" ]] || die "cannot read $dump"
  require_tools "$via" pg_restore psql
  entries="$(archive_entries "$dump" "$via")" || die "$dump is not a pg_dump custom-format archive"
  if [[ "$via" == 1 ]]; then
    [[ -z "$target" || "$target" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "DATABASE must be a plain database name (got '$target')"
    shown="database ${target:-POSTGRES_DB} of the compose service postgres"
    # shellcheck disable=SC2016 # expanded by the service's shell, with its env
    relations="$(in_postgres_service 'exec psql -X -A -t -v ON_ERROR_STOP=1 --username="$POSTGRES_USER" --dbname="${1:-$POSTGRES_DB}" -c "$2"' \
      sh "$target" "$COUNT_RELATIONS_SQL" </dev/null)" ||
      die "cannot query the $shown"
  else
    use_url "$target"
    shown="$(redact_url "$target")"
    relations="$(psql -X -A -t -v ON_ERROR_STOP=1 --no-password --dbname="$PG_URL" -c "$COUNT_RELATIONS_SQL")" ||
      die "cannot query $shown"
  fi
  if ((relations > 0)) && [[ -z "$force" ]]; then
    die "$shown is not empty ($relations tables, views or sequences): restore into a new database, or add --force"
  fi
  phase_done "$dump has $entries archive entries; $shown has $relations relations${force:+ (--force)}"

  phase 2 "$total" "pg_restore $RESTORE_FLAGS"
  # shellcheck disable=SC2086 # the flags are words
  if [[ "$via" == 1 ]]; then
    # shellcheck disable=SC2016 # expanded by the service's shell, with its env
    in_postgres_service "exec pg_restore $RESTORE_FLAGS"' --username="$POSTGRES_USER" --dbname="${1:-$POSTGRES_DB}"' \
      sh "$target" <"$dump" || die "pg_restore into the $shown failed: nothing was changed"
  else
    pg_restore $RESTORE_FLAGS --no-password --dbname="$PG_URL" "$dump" ||
      die "pg_restore into $shown failed: nothing was changed"
  fi
  phase_done "restored"

  phase 3 "$total" "what is there now"
  local count_sql="SELECT (SELECT count(*) FROM messages) || ' messages, ' || (SELECT count(*) FROM users) || ' users, ' || (SELECT count(*) FROM rooms) || ' rooms'"
  local summary
  if [[ "$via" == 1 ]]; then
    # shellcheck disable=SC2016 # expanded by the service's shell, with its env
    summary="$(in_postgres_service 'exec psql -X -A -t --username="$POSTGRES_USER" --dbname="${1:-$POSTGRES_DB}" -c "$2"' \
      sh "$target" "$count_sql" </dev/null 2>/dev/null)" || summary="(not a chat database)"
  else
    summary="$(psql -X -A -t --no-password --dbname="$PG_URL" -c "$count_sql" 2>/dev/null)" || summary="(not a chat database)"
  fi
  phase_done "$shown: $summary"
}

restore_main "$@"
