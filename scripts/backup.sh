#!/usr/bin/env bash
# Backs up the chat database: a pg_dump custom-format archive (-Fc), written
# as OUTPUT_DIR/chat-<UTC time>.dump.partial, checked with pg_restore --list,
# then renamed to OUTPUT_DIR/chat-<UTC time>.dump: OUTPUT_DIR never holds a
# half-written .dump. One run per OUTPUT_DIR at a time (flock).
#
#   scripts/backup.sh OUTPUT_DIR
#
# Source, one of:
#   DATABASE_URL          pg_dump of that database from here (pg_dump at least
#                         the server's major version). A password in the URL
#                         goes to pg_dump through PGPASSWORD, never onto a
#                         command line or into a log.
#   BACKUP_VIA_COMPOSE=1  pg_dump inside the `postgres` service of the
#                         repository's docker-compose.yml (docker compose exec
#                         -T), as its POSTGRES_USER, of its POSTGRES_DB.
# Then, with BACKUP_S3_URI=s3://bucket/prefix:
#   aws s3 cp to BACKUP_S3_URI/<file name> with server-side encryption
#   (BACKUP_S3_SSE: AES256 (default) or aws:kms, with BACKUP_S3_KMS_KEY_ID),
#   then deletes the local dumps older than BACKUP_KEEP_DAYS days (7).
#
# The systemd timer of the deployment runs
#   BACKUP_VIA_COMPOSE=1 BACKUP_S3_URI=s3://<bucket>/backups /opt/chat/scripts/backup.sh /var/backups/chat
# This script reads the environment only, never .env. scripts/restore.sh
# sources it for its helpers (then nothing runs). Checked by
# scripts/check-backup.sh.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# redact_url URL: URL with its password, if any, replaced by ***.
redact_url() {
  sed -E 's#^([A-Za-z][A-Za-z0-9+.-]*://[^:/@?]*):[^@/?]*@#\1:***@#' <<<"$1"
}

# use_url URL: sets PG_URL to URL without its password and exports
# PGPASSWORD (percent-decoded) when URL has one, for libpq's tools.
use_url() {
  local url=$1 userinfo pw
  PG_URL="$url"
  if [[ "$url" =~ ^([A-Za-z][A-Za-z0-9+.-]*://)([^@/?]*)@(.*)$ ]]; then
    userinfo="${BASH_REMATCH[2]}"
    if [[ "$userinfo" == *:* ]]; then
      pw="${userinfo#*:}"
      printf -v PGPASSWORD '%b' "${pw//%/\\x}"
      export PGPASSWORD
      PG_URL="${BASH_REMATCH[1]}${userinfo%%:*}@${BASH_REMATCH[3]}"
    fi
  fi
}

# compose ARGS...: docker compose on the repository's docker-compose.yml (and
# its .env, for the values compose needs to read the file).
compose() {
  docker compose --project-directory "$ROOT" "$@"
}

# in_postgres_service SCRIPT [NAME ARGS...]: runs the sh SCRIPT inside the
# compose `postgres` service (sh -c SCRIPT NAME ARGS...), stdin and stdout
# passed through; SCRIPT sees the service's env.
in_postgres_service() {
  compose exec -T postgres sh -c "$@"
}

# require_tools VIA_COMPOSE TOOL...: the tools exist where they will run.
require_tools() {
  local via=$1 tool
  shift
  if [[ "$via" == 1 ]]; then
    command -v docker >/dev/null || die "docker is not installed (BACKUP_VIA_COMPOSE / RESTORE_VIA_COMPOSE=1)"
    compose ps --status running --services 2>/dev/null | grep -x postgres >/dev/null ||
      die "the compose service postgres is not running ($ROOT/docker-compose.yml)"
    return 0
  fi
  for tool in "$@"; do
    command -v "$tool" >/dev/null || ensure_apt postgresql-client
    command -v "$tool" >/dev/null || die "$tool is missing (apt-get install postgresql-client)"
  done
}

# archive_entries FILE VIA_COMPOSE: the number of entries in a -Fc archive's
# table of contents (pg_restore --list); fails on a damaged archive.
archive_entries() {
  local file=$1 via=$2 listing
  if [[ "$via" == 1 ]]; then
    listing="$(in_postgres_service 'exec pg_restore --list' <"$file")"
  else
    listing="$(pg_restore --list "$file")"
  fi
  grep -c '^[0-9]' <<<"$listing"
}

backup_main() {
  (($# == 1)) || die "usage: scripts/backup.sh OUTPUT_DIR"
  local out=$1 via="${BACKUP_VIA_COMPOSE:-0}" s3="${BACKUP_S3_URI:-}"
  local keep="${BACKUP_KEEP_DAYS:-7}" sse="${BACKUP_S3_SSE:-AES256}"
  local total=3 name partial final source entries size

  phase 1 "$total" "checking the settings"
  [[ "$keep" =~ ^[0-9]+$ ]] || die "BACKUP_KEEP_DAYS must be a number of days (got '$keep')"
  [[ -z "$s3" || "$s3" == s3://?* ]] || die "BACKUP_S3_URI must look like s3://bucket/prefix (got '$s3')"
  [[ "$sse" == AES256 || "$sse" == aws:kms ]] || die "BACKUP_S3_SSE must be AES256 or aws:kms (got '$sse')"
  if [[ "$via" == 1 ]]; then
    source="the compose service postgres"
  else
    [[ -n "${DATABASE_URL:-}" ]] || die "set DATABASE_URL, or BACKUP_VIA_COMPOSE=1"
    use_url "$DATABASE_URL"
    source="$(redact_url "$DATABASE_URL")"
  fi
  require_tools "$via" pg_dump pg_restore
  if [[ -n "$s3" ]]; then
    command -v aws >/dev/null || die "BACKUP_S3_URI is set but the aws CLI is not installed"
  fi
  mkdir -p "$out"
  exec 9>"$out/.backup.lock"
  flock -n 9 || die "another backup into $out is running ($out/.backup.lock)"
  # Left by a run that died: nothing else writes here while we hold the lock.
  find "$out" -maxdepth 1 -type f -name 'chat-*.dump.partial' -delete
  name="chat-$(date -u +%Y%m%dT%H%M%SZ).dump"
  final="$out/$name"
  partial="$final.partial"
  [[ ! -e "$final" ]] || die "$final exists already"
  phase_done "dumping $source into $final"

  phase 2 "$total" "pg_dump -Fc"
  if [[ "$via" == 1 ]]; then
    # shellcheck disable=SC2016 # expanded by the service's shell, with its env
    in_postgres_service 'exec pg_dump -Fc --username="$POSTGRES_USER" --dbname="$POSTGRES_DB"' >"$partial" ||
      { rm -f "$partial"; die "pg_dump in the postgres service failed"; }
  else
    pg_dump -Fc --no-password --dbname="$PG_URL" --file="$partial" ||
      { rm -f "$partial"; die "pg_dump of $source failed"; }
  fi
  entries="$(archive_entries "$partial" "$via")" ||
    { rm -f "$partial"; die "pg_restore --list cannot read the new dump: not keeping it"; }
  ((entries > 0)) || { rm -f "$partial"; die "the dump has no entries"; }
  chmod 600 "$partial"
  mv -f "$partial" "$final"
  size="$(du -h "$final" | cut -f1)"
  phase_done "wrote $final ($size, $entries archive entries)"

  phase 3 "$total" "off-site copy"
  if [[ -z "$s3" ]]; then
    phase_done "no BACKUP_S3_URI: kept locally only, nothing pruned"
  else
    local -a sse_args=(--sse "$sse")
    if [[ "$sse" == aws:kms && -n "${BACKUP_S3_KMS_KEY_ID:-}" ]]; then
      sse_args+=(--sse-kms-key-id "$BACKUP_S3_KMS_KEY_ID")
    fi
    aws s3 cp "$final" "${s3%/}/$name" "${sse_args[@]}" --only-show-errors --no-progress ||
      die "upload to ${s3%/}/$name failed (the dump stays in $out)"
    local pruned
    pruned="$(find "$out" -maxdepth 1 -type f -name 'chat-*.dump' ! -name "$name" \
      -mmin "+$((keep * 1440))" -print -delete | wc -l)"
    phase_done "uploaded to ${s3%/}/$name (SSE $sse); deleted $pruned local dumps older than $keep days"
  fi
  printf '%s\n' "$final"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  backup_main "$@"
fi
