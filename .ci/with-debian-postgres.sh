#!/usr/bin/env bash
# Runs a command with DATABASE_URL pointing at a throwaway cluster of Debian's PostgreSQL package.
set -euo pipefail
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
fi
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
DIR=$(mktemp -d /tmp/nmc-debian-pg.XXXXXX)
chmod 755 "$DIR"
chown postgres:postgres "$DIR" 2>/dev/null || true
PORT=$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
as_pg "$PGBIN/initdb -D $DIR/data -U postgres --auth=trust >/dev/null"
as_pg "$PGBIN/pg_ctl -D $DIR/data -o '-p $PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$DIR' -l $DIR/log -w start >/dev/null"
trap 'as_pg "$PGBIN/pg_ctl -D $DIR/data -m fast stop >/dev/null" || true; rm -rf "$DIR"' EXIT
echo "Debian PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on port $PORT"
DATABASE_URL="postgres://postgres@127.0.0.1:$PORT/postgres" "$@"
