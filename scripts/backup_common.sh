# shellcheck shell=bash
# Shared by backup.sh, restore.sh and check_backup_restore.sh (sourced, not run).
#
# pg_connect_env URL: turn a Django DATABASE_URL (postgres://, postgresql://,
# psql://, pgsql:// or postgis://; user, password, host, port, database;
# percent-encoded parts; a socket directory as a percent-encoded host) into
# libpq's PG* environment variables, so psql, pg_dump and pg_restore run with
# no connection arguments and the password never appears in a command line.
# Query options libpq knows become PG* variables; Django's own
# (conn_max_age and friends) are ignored.
#
# table_counts: one "schema.table<TAB>rows" line per table of the database in
# PG*, sorted, counted in one statement (so in one snapshot).
#
# media_manifest DIR: sha256sum-format lines for every file under DIR,
# sorted by path, paths relative to DIR.

die() {
  echo "$(basename "$0"): $*" >&2
  exit 1
}

urldecode() {
  local value=${1//+/ }
  printf '%b' "${value//%/\\x}"
}

pg_connect_env() {
  local url=$1 scheme rest query="" authority path userinfo="" hostport
  local host port option key value
  [[ $url == *://* ]] || die "DATABASE_URL is not a URL (postgres://user@host:5432/name)"
  scheme=${url%%://*}
  case $scheme in
    postgres | postgresql | psql | pgsql | postgis) ;;
    *) die "DATABASE_URL must be a PostgreSQL URL, not $scheme://" ;;
  esac
  rest=${url#*://}
  if [[ $rest == *\?* ]]; then
    query=${rest#*\?}
    rest=${rest%%\?*}
  fi
  authority=${rest%%/*}
  path=""
  if [[ $rest == */* ]]; then path=${rest#*/}; fi
  [ -n "$path" ] || die "DATABASE_URL names no database"
  if [[ $authority == *@* ]]; then
    userinfo=${authority%@*}
    hostport=${authority##*@}
  else
    hostport=$authority
  fi
  if [[ $hostport == \[*\]* ]]; then # [::1]:5432
    host=${hostport%%]*}
    host=${host#[}
    port=${hostport#*]}
    port=${port#:}
  elif [[ $hostport == *:* ]]; then
    host=${hostport%%:*}
    port=${hostport#*:}
  else
    host=$hostport
    port=""
  fi
  unset PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE PGSERVICE
  if [ -n "$host" ]; then
    PGHOST=$(urldecode "$host")
    export PGHOST
  fi
  if [ -n "$port" ]; then export PGPORT="$port"; fi
  if [ -n "$userinfo" ]; then
    if [[ $userinfo == *:* ]]; then
      PGPASSWORD=$(urldecode "${userinfo#*:}")
      export PGPASSWORD
      userinfo=${userinfo%%:*}
    fi
    PGUSER=$(urldecode "$userinfo")
    export PGUSER
  fi
  PGDATABASE=$(urldecode "$path")
  export PGDATABASE
  if [ -n "$query" ]; then
    local IFS='&'
    for option in $query; do
      key=${option%%=*}
      value=$(urldecode "${option#*=}")
      case $key in
        sslmode) export PGSSLMODE="$value" ;;
        sslrootcert) export PGSSLROOTCERT="$value" ;;
        sslcert) export PGSSLCERT="$value" ;;
        sslkey) export PGSSLKEY="$value" ;;
        connect_timeout) export PGCONNECT_TIMEOUT="$value" ;;
        application_name) export PGAPPNAME="$value" ;;
        options) export PGOPTIONS="$value" ;;
        conn_max_age | conn_health_checks | atomic_requests | autocommit | disable_server_side_cursors) ;;
        *) echo "$(basename "$0"): ignoring DATABASE_URL option $key" >&2 ;;
      esac
    done
  fi
  export PGCONNECT_TIMEOUT="${PGCONNECT_TIMEOUT:-10}"
}

# Every table pg_dump dumps: ordinary and partitioned tables outside the
# system schemas. query_to_xml counts each one inside this single statement.
TABLE_COUNTS_SQL="
SELECT format('%s.%s', schemaname, tablename) || E'\t' ||
       (xpath('/row/n/text()', query_to_xml(
          format('SELECT count(*) AS n FROM %I.%I', schemaname, tablename),
          false, true, '')))[1]::text
FROM pg_tables
WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
  AND schemaname NOT LIKE 'pg_toast%'
ORDER BY schemaname, tablename;"

table_counts() {
  psql -X -q -t -A -v ON_ERROR_STOP=1 -c "$TABLE_COUNTS_SQL"
}

media_manifest() {
  (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum) |
    sed 's#  \./#  #'
}

server_major() {
  psql -X -q -t -A -v ON_ERROR_STOP=1 -c "SHOW server_version_num" | cut -c1-2
}

tool_major() {
  "$1" --version | sed -E 's/^[^0-9]*([0-9]+).*/\1/'
}
