# shellcheck shell=bash
# ensure_pg: make a PostgreSQL server available to the tests and export YUTANG_TEST_PG.
#
# 1. $YUTANG_TEST_PG if it answers;
# 2. else postgres://postgres@127.0.0.1:5432/postgres if it answers;
# 3. else a throwaway cluster (initdb + pg_ctl from Debian's packages, installed if missing)
#    in .pgtest/ on port 54329, stopped again when the calling script exits.
# Never skips: if none of these works, it fails.

pg_answers() {
  psql "$1" -XAtqc 'select 1' >/dev/null 2>&1
}

ensure_psql() {
  if ! command -v psql >/dev/null 2>&1; then
    echo "test: installing the PostgreSQL client (psql)" >&2
    apt_install postgresql-client
  fi
}

apt_install() {
  if [ "$(id -u)" != 0 ]; then
    echo "test: need root to apt-get install $*" >&2
    return 1
  fi
  if [ -z "${YUTANG_APT_UPDATED:-}" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    export YUTANG_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

find_pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    if [ -x "$d/initdb" ]; then echo "$d"; return 0; fi
  done
  if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return 0; fi
  return 1
}

start_throwaway_pg() {
  local root bin data port=54329 run_as=()
  root="$(pwd)/.pgtest"
  bin="$(find_pg_bin)" || { echo "test: installing PostgreSQL server packages" >&2; apt_install postgresql; bin="$(find_pg_bin)"; }
  data="$root/data"
  rm -rf "$root"
  mkdir -p "$root"
  # initdb refuses to run as root: use the postgres system user when we are root.
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home "$root" postgres
    chown postgres "$root"
    run_as=(runuser -u postgres --)
  fi
  "${run_as[@]}" "$bin/initdb" -D "$data" -U postgres -A trust --no-sync -E UTF8 >"$root/initdb.log" 2>&1 \
    || { cat "$root/initdb.log" >&2; return 1; }
  "${run_as[@]}" "$bin/pg_ctl" -D "$data" -l "$root/server.log" -w \
    -o "-p $port -k $root -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null \
    || { cat "$root/server.log" >&2; return 1; }
  YUTANG_PG_STOP="${run_as[*]} $bin/pg_ctl -D $data -m fast stop"
  export YUTANG_PG_STOP
  export YUTANG_TEST_PG="postgres://postgres@127.0.0.1:$port/postgres"
  echo "test: started a throwaway PostgreSQL on port $port" >&2
}

stop_throwaway_pg() {
  if [ -n "${YUTANG_PG_STOP:-}" ]; then
    $YUTANG_PG_STOP >/dev/null 2>&1 || true
  fi
}

ensure_pg() {
  ensure_psql
  if [ -n "${YUTANG_TEST_PG:-}" ] && pg_answers "$YUTANG_TEST_PG"; then
    echo "test: PostgreSQL at ${YUTANG_TEST_PG%%@*}@${YUTANG_TEST_PG#*@}" >&2
  elif pg_answers "postgres://postgres@127.0.0.1:5432/postgres"; then
    export YUTANG_TEST_PG="postgres://postgres@127.0.0.1:5432/postgres"
    echo "test: PostgreSQL at 127.0.0.1:5432" >&2
  else
    start_throwaway_pg
    pg_answers "$YUTANG_TEST_PG" || { echo "test: PostgreSQL did not come up" >&2; return 1; }
  fi
  # Drop databases left by earlier runs (each test creates a fresh yutang_test_* database).
  local db
  for db in $(psql "$YUTANG_TEST_PG" -XAtqc "select datname from pg_database where datname like 'yutang_test_%'"); do
    psql "$YUTANG_TEST_PG" -XAtqc "drop database if exists \"$db\"" >/dev/null 2>&1 || true
  done
}
