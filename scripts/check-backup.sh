#!/usr/bin/env bash
# Checks scripts/backup.sh and scripts/restore.sh against a real Postgres: a
# database with the chat schema and a few thousand rows goes through a backup,
# an upload to S3 and a restore into another database, and comes out the same.
#
#   DATABASE_URL=postgres://postgres@127.0.0.1:25432/chat scripts/check-backup.sh
#
# DATABASE_URL: a server on which this user may create databases (the test
# stack's superuser). Needs target/debug/migrate (cargo build -p chat-core).
#
#   1. tools: pg_dump/pg_restore/psql, and from PyPI the aws CLI and moto (a
#      local S3 server, started on a free loopback port)
#   2. source database bk_src_<id>: migrations (target/debug/migrate), then
#      users, rooms, members, refresh tokens and 5000 messages (unicode, HTML-
#      looking bodies, quotes, backslashes, 3500-character bodies)
#   3. scripts/backup.sh into a temp dir, uploading to the local S3 (SSE
#      AES256); dumps older than BACKUP_KEEP_DAYS are pruned, newer ones kept;
#      no .partial left; the password of the URL never printed
#   4. scripts/restore.sh into a new database bk_dst_<id>; a second restore
#      into it is refused without --force and done with it; migrate on the
#      result applies nothing
#   5. the same rows: counts of every table and an md5 over every message
#      (id, room_id, seq, sender_id, client_msg_id, kind, body, sent_at) in id
#      order, and over the users
# Both databases, the temp dir and the S3 server are removed on exit.
set -euo pipefail

LOG_NAME=check-backup
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

TOTAL=5
MIGRATE_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/migrate"
[[ "$MIGRATE_BIN" == /* ]] || MIGRATE_BIN="$ROOT/$MIGRATE_BIN"
ID="$(date +%s)_$$"
SRC_DB="bk_src_$ID"
DST_DB="bk_dst_$ID"
BUCKET="chat-backup-check"
WORK=""
S3_PID=""
CREATED_DBS=()
VERDICTS=()

# A password that must never show up in what the scripts print: the URL's
# own, or a canary put into it (trust authentication ignores it).
CANARY=""

admin_psql() {
  psql -X -A -t -q -v ON_ERROR_STOP=1 --no-password --dbname="$ADMIN_URL" "$@"
}

# db_url NAME: DATABASE_URL with its database replaced by NAME.
db_url() {
  local base="${DATABASE_URL%%\?*}" query=""
  [[ "$DATABASE_URL" == *\?* ]] && query="?${DATABASE_URL#*\?}"
  printf '%s/%s%s' "${base%/*}" "$1" "$query"
}

db_psql() {
  local db=$1
  shift
  psql -X -A -t -q -v ON_ERROR_STOP=1 --no-password --dbname="$(db_url_plain "$db")" "$@"
}

# db_url_plain NAME: the URL of NAME without any password (PGPASSWORD has it).
db_url_plain() {
  local url
  url="$(db_url "$1")"
  use_url "$url"
  printf '%s' "$PG_URL"
}

verdict() {
  VERDICTS+=("$(printf '%-34s %s' "$1" "$2")")
}

cleanup() {
  local rc=$? db
  trap - EXIT INT TERM
  _PHASE=""
  for db in "${CREATED_DBS[@]}"; do
    admin_psql -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 ||
      log "could not drop database $db"
  done
  if [[ -n "$S3_PID" ]]; then
    kill "$S3_PID" 2>/dev/null || true
    wait "$S3_PID" 2>/dev/null || true
  fi
  [[ -z "$WORK" ]] || rm -rf "$WORK"
  if ((${#VERDICTS[@]} > 0)); then
    printf '%s\n' "----- check-backup verdicts -----" "${VERDICTS[@]}" >&2
  fi
  if ((rc == 0)); then
    log "backup check PASSED"
  else
    log "backup check FAILED (exit status $rc)"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM


# run_logged LOGFILE CMD...: CMD with its output in LOGFILE; shows its tail on failure.
run_logged() {
  local logfile=$1
  shift
  if ! "$@" >"$logfile" 2>&1; then
    die_with_log "$logfile" "$* failed"
  fi
}

s3_answers() {
  pid_alive "$S3_PID" || return "$WAIT_ABORT"
  aws s3api list-buckets >/dev/null 2>&1
}

# ---------------------------------------------------------------------------
phase 1 "$TOTAL" "tools"
[[ -n "${DATABASE_URL:-}" ]] || die "set DATABASE_URL to a Postgres server where this user may create databases"
[[ -x "$MIGRATE_BIN" ]] || die "$MIGRATE_BIN is missing: cargo build -p chat-core --bin migrate"
for tool in psql pg_dump pg_restore; do
  command -v "$tool" >/dev/null || ensure_apt postgresql-client
done
ensure_pip awscli==1.46.2 "moto[server]==5.2.5"
# The scripts must not print the password: give the URL one if it has none.
# shellcheck source=scripts/backup.sh
source "$ROOT/scripts/backup.sh"
if [[ "$DATABASE_URL" =~ ^[A-Za-z][A-Za-z0-9+.-]*://[^@/?:]*:([^@/?]*)@ ]]; then
  CANARY="${BASH_REMATCH[1]}"
elif [[ "$DATABASE_URL" =~ ^([A-Za-z][A-Za-z0-9+.-]*://)([^@/?]+)@(.*)$ ]]; then
  CANARY="canary-$RANDOM$RANDOM"
  DATABASE_URL="${BASH_REMATCH[1]}${BASH_REMATCH[2]}:$CANARY@${BASH_REMATCH[3]}"
fi
ADMIN_URL="$(db_url_plain "$(sed -E 's#^[^/]*//[^/]*/([^?]*).*#\1#' <<<"$DATABASE_URL")")"
admin_psql -c 'SELECT 1' >/dev/null || die "cannot connect to $(redact_url "$DATABASE_URL")"
WORK="$(mktemp -d /tmp/chat-check-backup.XXXXXX)"
export AWS_ACCESS_KEY_ID=check-backup AWS_SECRET_ACCESS_KEY=check-backup AWS_DEFAULT_REGION=us-east-1
S3_PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export AWS_ENDPOINT_URL="http://127.0.0.1:$S3_PORT"
moto_server -H 127.0.0.1 -p "$S3_PORT" >"$WORK/s3.log" 2>&1 &
S3_PID=$!
wait_until "local S3 (moto) on 127.0.0.1:$S3_PORT" 30 s3_answers || die_with_log "$WORK/s3.log" "moto_server did not start"
aws s3 mb "s3://$BUCKET" >/dev/null
phase_done "$(pg_dump --version), $(aws --version 2>&1 | cut -d' ' -f1), local S3 on :$S3_PORT"

# ---------------------------------------------------------------------------
phase 2 "$TOTAL" "source database $SRC_DB: migrations and rows"
admin_psql -c "CREATE DATABASE \"$SRC_DB\"" >/dev/null
CREATED_DBS+=("$SRC_DB")
DATABASE_URL="$(db_url "$SRC_DB")" run_logged "$WORK/migrate-src.log" "$MIGRATE_BIN"
db_psql "$SRC_DB" <<'SQL'
INSERT INTO users (id, username, password_hash, is_bot)
SELECT md5('user' || i)::uuid, 'user_' || i,
       '$argon2id$v=19$m=19456,t=2,p=1$' || md5('salt' || i) || '$' || md5('hash' || i),
       i % 100 = 0
FROM generate_series(1, 200) AS i;

INSERT INTO rooms (id, name, kind, created_by, direct_key)
SELECT md5('room' || i)::uuid, 'room ' || i || ' — ünïcødé 🚀',
       (CASE WHEN i % 3 = 0 THEN 'private' ELSE 'public' END)::room_kind,
       md5('user' || (1 + i % 200))::uuid, NULL
FROM generate_series(1, 30) AS i;

INSERT INTO room_members (room_id, user_id, role, last_read_seq)
SELECT md5('room' || r)::uuid, md5('user' || u)::uuid,
       (CASE WHEN u = 1 + r % 200 THEN 'owner' ELSE 'member' END)::member_role, u % 7
FROM generate_series(1, 30) AS r, generate_series(1, 200) AS u
WHERE (r + u) % 4 = 0 OR u = 1 + r % 200;

INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at, revoked_at)
SELECT md5('token' || i)::uuid, md5('user' || (1 + i % 200))::uuid, md5('family' || (i % 40))::uuid,
       decode(md5('secret' || i) || md5('more' || i), 'hex'),
       timestamptz '2027-01-01 00:00:00+00' + i * interval '1 minute',
       CASE WHEN i % 5 = 0 THEN timestamptz '2026-06-01 00:00:00+00' END
FROM generate_series(1, 120) AS i;

INSERT INTO messages (id, room_id, seq, sender_id, client_msg_id, kind, body, sent_at)
SELECT md5('msg' || i)::uuid,
       md5('room' || (1 + i % 30))::uuid,
       1 + i / 30,
       md5('user' || (1 + i % 200))::uuid,
       'c-' || i,
       (CASE i % 50 WHEN 0 THEN 'system' WHEN 1 THEN 'bot' ELSE 'user' END)::message_kind,
       CASE i % 6
         WHEN 0 THEN '<script>alert(' || i || ')</script> & <b>bold</b> <img src=x onerror="x()">'
         WHEN 1 THEN 'héllo wörld ✓ 日本語のテキスト Ελληνικά עברית ' || i || ' 👋🏽👩‍👩‍👧'
         WHEN 2 THEN E'line one\nline two\ttab "double" ''single'' \\ back\\slash %s $1 ' || i
         WHEN 3 THEN repeat('long body ', 350) || i
         WHEN 4 THEN E'\u00a0non-breaking\u200bzero-width\u202eright-to-left ' || i
         ELSE 'message ' || i
       END,
       timestamptz '2026-01-01 00:00:00+00' + i * interval '1.5 seconds'
FROM generate_series(0, 4999) AS i;
SQL
phase_done "$(db_psql "$SRC_DB" -c "SELECT count(*) FROM messages") messages, $(db_psql "$SRC_DB" -c "SELECT count(*) FROM users") users"

# ---------------------------------------------------------------------------
phase 3 "$TOTAL" "scripts/backup.sh, with an upload to s3://$BUCKET/backups"
OUT="$WORK/backups"
mkdir -p "$OUT"
# Two old dumps (pruned after the upload) and a recent one (kept).
printf 'old' >"$OUT/chat-20000101T000000Z.dump"
printf 'old' >"$OUT/chat-20000102T000000Z.dump"
printf 'recent' >"$OUT/chat-20000103T000000Z.dump"
touch -d '10 days ago' "$OUT/chat-20000101T000000Z.dump" "$OUT/chat-20000102T000000Z.dump"
touch -d '2 days ago' "$OUT/chat-20000103T000000Z.dump"
DATABASE_URL="$(db_url "$SRC_DB")" BACKUP_VIA_COMPOSE=0 BACKUP_S3_URI="s3://$BUCKET/backups" \
  BACKUP_KEEP_DAYS=7 run_logged "$WORK/backup.log" "$ROOT/scripts/backup.sh" "$OUT"
DUMP="$(tail -n 1 "$WORK/backup.log")"
[[ "$DUMP" =~ ^$OUT/chat-[0-9]{8}T[0-9]{6}Z\.dump$ ]] || die_with_log "$WORK/backup.log" "backup.sh did not print the dump's path last (got '$DUMP')"
[[ -s "$DUMP" ]] || die "$DUMP is missing or empty"
[[ -z "$(find "$OUT" -name '*.partial')" ]] || die "a .partial file was left in $OUT"
[[ ! -e "$OUT/chat-20000101T000000Z.dump" && ! -e "$OUT/chat-20000102T000000Z.dump" ]] ||
  die "the dumps older than 7 days were not pruned"
[[ -e "$OUT/chat-20000103T000000Z.dump" ]] || die "a dump younger than 7 days was pruned"
SSE="$(aws s3api head-object --bucket "$BUCKET" --key "backups/$(basename "$DUMP")" \
  --query ServerSideEncryption --output text)" || die "the dump is not in s3://$BUCKET/backups/"
[[ "$SSE" == AES256 ]] || die "the uploaded dump has ServerSideEncryption '$SSE', expected AES256"
aws s3 cp "s3://$BUCKET/backups/$(basename "$DUMP")" "$WORK/downloaded.dump" --only-show-errors
cmp -s "$DUMP" "$WORK/downloaded.dump" || die "the uploaded dump differs from the local one"
verdict "backup.sh" "ok: $(basename "$DUMP") ($(du -h "$DUMP" | cut -f1)), atomic, S3 copy identical with SSE $SSE, 2 old dumps pruned, 1 kept"
phase_done "$DUMP"

# ---------------------------------------------------------------------------
phase 4 "$TOTAL" "scripts/restore.sh into $DST_DB"
admin_psql -c "CREATE DATABASE \"$DST_DB\"" >/dev/null
CREATED_DBS+=("$DST_DB")
run_logged "$WORK/restore.log" "$ROOT/scripts/restore.sh" "$DUMP" "$(db_url "$DST_DB")"
if "$ROOT/scripts/restore.sh" "$DUMP" "$(db_url "$DST_DB")" >"$WORK/restore-refused.log" 2>&1; then
  die "restore.sh restored into a database that is not empty, without --force"
fi
grep -q 'is not empty' "$WORK/restore-refused.log" || die_with_log "$WORK/restore-refused.log" "restore.sh failed, but not because the target is not empty"
run_logged "$WORK/restore-force.log" "$ROOT/scripts/restore.sh" "$DUMP" "$(db_url "$DST_DB")" --force
DATABASE_URL="$(db_url "$DST_DB")" run_logged "$WORK/migrate-dst.log" "$MIGRATE_BIN"
verdict "restore.sh" "ok: into an empty database; refused a non-empty one; --force; migrate a no-op after"
phase_done "restored, refused without --force, restored with --force"

# ---------------------------------------------------------------------------
phase 5 "$TOTAL" "comparing $SRC_DB and $DST_DB"
fingerprint() {
  db_psql "$1" <<'SQL'
SELECT 'messages ' || count(*) || ' ' || md5(coalesce(string_agg(
         concat_ws('|', id, room_id, seq, sender_id, client_msg_id, kind, body, sent_at), E'\n' ORDER BY id), ''))
FROM messages;
SELECT 'users ' || count(*) || ' ' || md5(coalesce(string_agg(
         concat_ws('|', id, username, password_hash, is_bot, created_at), E'\n' ORDER BY id), ''))
FROM users;
SELECT 'rooms ' || count(*) || ' ' || md5(coalesce(string_agg(concat_ws('|', id, name, kind, created_by), E'\n' ORDER BY id), '')) FROM rooms;
SELECT 'room_members ' || count(*) || ' ' || md5(coalesce(string_agg(concat_ws('|', room_id, user_id, role, last_read_seq), E'\n' ORDER BY room_id, user_id), '')) FROM room_members;
SELECT 'refresh_tokens ' || count(*) || ' ' || md5(coalesce(string_agg(concat_ws('|', id, token_hash, expires_at, revoked_at), E'\n' ORDER BY id), '')) FROM refresh_tokens;
SELECT 'migrations ' || count(*) || ' ' || md5(coalesce(string_agg(concat_ws('|', version, checksum), E'\n' ORDER BY version), '')) FROM _sqlx_migrations;
SQL
}
fingerprint "$SRC_DB" >"$WORK/src.txt"
fingerprint "$DST_DB" >"$WORK/dst.txt"
if ! diff -u "$WORK/src.txt" "$WORK/dst.txt" >&2; then
  die "the restored database differs from the source"
fi
sed 's/^/  /' "$WORK/src.txt" >&2
[[ "$(grep -c '^messages 5000 ' "$WORK/src.txt")" == 1 ]] || die "expected 5000 messages in the source"
if [[ -n "$CANARY" ]] && grep -qF -- "$CANARY" "$WORK"/*.log; then
  die "the database password was printed (see $WORK/*.log)"
fi
verdict "same data after the round trip" "ok: $(tr '\n' ';' <"$WORK/src.txt" | sed -E 's/ [0-9a-f]{32}//g; s/;$//')"
if [[ -n "$CANARY" ]]; then
  verdict "password never printed" "ok: the URL's password is in none of $(find "$WORK" -name '*.log' | wc -l) logs"
else
  verdict "password never printed" "not checked: DATABASE_URL has no user@ part to add one to"
fi
phase_done "identical"
