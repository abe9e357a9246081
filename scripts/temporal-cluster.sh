#!/usr/bin/env bash
# A production-shaped Temporal on this machine, without Docker: the real server (not start-dev) on PostgreSQL, with
# SQL visibility and the AuditSpike* search attributes.
#
#   bash scripts/temporal-cluster.sh build     build temporal-server and temporal-sql-tool (cached in .tools/)
#   bash scripts/temporal-cluster.sh start     build if needed, start PostgreSQL and the server (state kept in .data/)
#   bash scripts/temporal-cluster.sh stop      stop what start started
#   bash scripts/temporal-cluster.sh reset     stop and delete the cluster's data (the next start is a fresh cluster)
#   bash scripts/temporal-cluster.sh status    say what is running, and the address
#   bash scripts/temporal-cluster.sh test [JEST ARGS]
#                                              a fresh cluster, the e2e pipeline test (and any given test files) against
#                                              it, and everything stopped again (npm run test:cluster)
#
# Go >= 1.26 builds go.temporal.io/server at TEMPORAL_SERVER_VERSION (v1.32.1; v1.32.2 needs go >= 1.26.10). The
# build is slow on a small machine: it runs niced, one package at a time (GOFLAGS=-p=1), and is done once.
# Debian's postgresql is installed with apt-get when no PostgreSQL is found. initdb refuses root, so PostgreSQL runs as
# the `postgres` user, its data under .data/temporal-cluster/pg, on 127.0.0.1 only.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VERSION="${TEMPORAL_SERVER_VERSION:-v1.32.1}"
TOOLS="$ROOT/.tools/temporal-cluster/$VERSION"
DATA="${TEMPORAL_CLUSTER_DATA:-$ROOT/.data/temporal-cluster}"
HOST=127.0.0.1
# Every port in 17550-17599 (frontend, its HTTP API, history, matching, worker, their membership ports, metrics).
BASE="${TEMPORAL_CLUSTER_PORT:-17550}"
FRONTEND=$BASE HTTP=$((BASE + 1)) HISTORY=$((BASE + 2)) MATCHING=$((BASE + 3)) WORKER=$((BASE + 4))
M_FRONTEND=$((BASE + 5)) M_HISTORY=$((BASE + 6)) M_MATCHING=$((BASE + 7)) M_WORKER=$((BASE + 8))
PPROF=$((BASE + 9)) METRICS="${TEMPORAL_CLUSTER_METRICS_PORT:-$((BASE + 10))}"
PGPORT="${TEMPORAL_CLUSTER_PG_PORT:-17590}"
NAMESPACE=default
ADDRESS="$HOST:$FRONTEND"

say() { echo "temporal-cluster: $*" >&2; }
die() { say "$*"; exit 1; }

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# --- build -----------------------------------------------------------------------------------------------------------
build() {
  if [ -x "$TOOLS/temporal-server" ] && [ -x "$TOOLS/temporal-sql-tool" ]; then return 0; fi
  command -v go >/dev/null || die "Go is needed to build the Temporal server (go >= 1.26 for $VERSION); install it and run again"
  say "building the Temporal server and SQL tool $VERSION with $(go version | awk '{print $3}') (slow the first time; cached in ${TOOLS#"$ROOT"/})"
  mkdir -p "$TOOLS/bin"
  local started=$SECONDS
  GOBIN="$TOOLS/bin" GOFLAGS="${GOFLAGS:--p=1} -buildvcs=false" CGO_ENABLED=0 GOTOOLCHAIN=local \
    nice -n 10 go install -trimpath -ldflags='-s -w' \
    "go.temporal.io/server/cmd/server@$VERSION" "go.temporal.io/server/cmd/tools/sql@$VERSION"
  mv "$TOOLS/bin/server" "$TOOLS/temporal-server"
  mv "$TOOLS/bin/sql" "$TOOLS/temporal-sql-tool"
  rmdir "$TOOLS/bin" 2>/dev/null || true
  say "built in $((SECONDS - started))s"
}

# --- PostgreSQL ------------------------------------------------------------------------------------------------------
pg_bin() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
  if [ -z "$dir" ]; then
    command -v apt-get >/dev/null || die "no PostgreSQL found and no apt-get to install it: install PostgreSQL >= 12"
    say "installing Debian's postgresql with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2 || die "apt-get install postgresql failed"
    dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
    [ -n "$dir" ] || die "postgresql installed but no /usr/lib/postgresql/*/bin"
  fi
  echo "$dir"
}

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_start() {
  local bin; bin="$(pg_bin)"
  mkdir -p "$DATA"
  if [ ! -s "$DATA/pg/PG_VERSION" ]; then
    if [ "$(id -u)" = 0 ]; then id postgres >/dev/null 2>&1 || die "no postgres user (Debian's postgresql package creates it)"; fi
    mkdir -p "$DATA/pg" "$DATA/pg-run"
    [ "$(id -u)" = 0 ] && chown postgres: "$DATA/pg" "$DATA/pg-run"
    # The postgres user must be able to reach its directory.
    local dir="$DATA"; while [ "$dir" != / ]; do chmod o+x "$dir" 2>/dev/null || true; dir="$(dirname "$dir")"; done
    say "initdb in ${DATA#"$ROOT"/}/pg"
    as_postgres "$bin/initdb" -D "$DATA/pg" -U postgres --auth=trust -E UTF8 --locale=C >"$DATA/initdb.log" 2>&1 || { cat "$DATA/initdb.log" >&2; die "initdb failed"; }
  fi
  if ! as_postgres "$bin/pg_ctl" -D "$DATA/pg" status >/dev/null 2>&1; then
    port_open "$PGPORT" && die "port $PGPORT is taken by something else; set TEMPORAL_CLUSTER_PG_PORT"
    [ "$(id -u)" = 0 ] && chown postgres: "$DATA/pg-run"
    # Sized for a fleet on a small machine: Temporal keeps a pool of connections per service.
    as_postgres "$bin/pg_ctl" -D "$DATA/pg" -l "$DATA/pg/postgres.log" -w -t 60 start \
      -o "-p $PGPORT -c listen_addresses=$HOST -k $DATA/pg-run -c max_connections=200 -c shared_buffers=128MB -c fsync=on -c synchronous_commit=on" >/dev/null \
      || { tail -20 "$DATA/pg/postgres.log" >&2; die "PostgreSQL did not start"; }
  fi
  psql_ -d postgres -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'temporal'" | grep -q 1 \
    || psql_ -d postgres -c "CREATE ROLE temporal LOGIN SUPERUSER PASSWORD 'temporal'" >/dev/null
}

psql_() { "$(pg_bin)/psql" -X -q -h "$HOST" -p "$PGPORT" -U postgres "$@"; }

sql_tool() { "$TOOLS/temporal-sql-tool" --plugin postgres12 --ep "$HOST" -p "$PGPORT" -u temporal --pw temporal "$@"; }

schemas() {
  local db schema
  for db in temporal temporal_visibility; do
    schema=temporal; [ "$db" = temporal_visibility ] && schema=visibility
    if ! psql_ -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
      say "creating the $db database and schema"
      sql_tool --db "$db" create-database >/dev/null 2>&1
      sql_tool --db "$db" setup-schema -v 0.0 >/dev/null 2>&1
    fi
    # Idempotent: brings an existing schema up to this server version.
    sql_tool --db "$db" update-schema --schema-name "postgresql/v12/$schema" >"$DATA/schema-$db.log" 2>&1 \
      || { tail -20 "$DATA/schema-$db.log" >&2; die "schema update of $db failed"; }
  done
}

# --- the server ------------------------------------------------------------------------------------------------------
write_config() {
  cat >"$DATA/temporal.yaml" <<EOF
log:
  stdout: true
  level: warn
persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: ${TEMPORAL_CLUSTER_SHARDS:-4}
  datastores:
    postgres-default:
      sql:
        pluginName: postgres12
        databaseName: temporal
        connectAddr: "$HOST:$PGPORT"
        connectProtocol: tcp
        user: temporal
        password: temporal
        maxConns: 40
        maxIdleConns: 40
        maxConnLifetime: 1h
    postgres-visibility:
      sql:
        pluginName: postgres12
        databaseName: temporal_visibility
        connectAddr: "$HOST:$PGPORT"
        connectProtocol: tcp
        user: temporal
        password: temporal
        maxConns: 10
        maxIdleConns: 10
        maxConnLifetime: 1h
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "$HOST"
  pprof:
    port: $PPROF
  metrics:
    prometheus:
      framework: tally
      timerType: histogram
      listenAddress: "$HOST:$METRICS"
services:
  frontend:
    rpc: { grpcPort: $FRONTEND, membershipPort: $M_FRONTEND, bindOnIP: "$HOST", httpPort: $HTTP }
  history:
    rpc: { grpcPort: $HISTORY, membershipPort: $M_HISTORY, bindOnIP: "$HOST" }
  matching:
    rpc: { grpcPort: $MATCHING, membershipPort: $M_MATCHING, bindOnIP: "$HOST" }
  worker:
    rpc: { grpcPort: $WORKER, membershipPort: $M_WORKER, bindOnIP: "$HOST" }
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: "$ADDRESS"
      httpAddress: "$HOST:$HTTP"
dcRedirectionPolicy:
  policy: noop
dynamicConfigClient:
  filepath: "$DATA/dynamicconfig.yaml"
  pollInterval: 10s
EOF
  # The scheduler starts at most 30 scheduled workflows per second per namespace by default: 10,000 orgs every 5 min
  # need 33/s on average, and more where offsets cluster.
  cat >"$DATA/dynamicconfig.yaml" <<EOF
worker.schedulerNamespaceStartWorkflowRPS:
  - value: ${TEMPORAL_CLUSTER_SCHEDULER_RPS:-200}
system.forceSearchAttributesCacheRefreshOnRead:
  - value: true
limit.maxIDLength:
  - value: 255
EOF
}

server_pid() { [ -s "$DATA/server.pid" ] && kill -0 "$(cat "$DATA/server.pid")" 2>/dev/null && cat "$DATA/server.pid"; }

temporal_cli() { "$(bash "$ROOT/scripts/setup-temporal.sh" --quiet)" "$@"; }

# The search attributes the runs upsert, as src/workflows/search-attributes.ts defines them (Name Type per line).
search_attributes() {
  sed -n "s/.*defineSearchAttributeKey('\([A-Za-z0-9_]*\)', SearchAttributeType\.\([A-Z_]*\)).*/\1 \2/p" "$ROOT/src/workflows/search-attributes.ts" |
    while read -r name type; do
      case "$type" in
        KEYWORD) echo "$name Keyword" ;; BOOL) echo "$name Bool" ;; INT) echo "$name Int" ;; DOUBLE) echo "$name Double" ;;
        DATETIME) echo "$name Datetime" ;; TEXT) echo "$name Text" ;; KEYWORD_LIST) echo "$name KeywordList" ;;
        *) die "unknown search attribute type $type for $name" ;;
      esac
    done
}

register() {
  local cli; cli="$(bash "$ROOT/scripts/setup-temporal.sh" --quiet)"
  local deadline=$((SECONDS + 90))
  until "$cli" operator cluster health --address "$ADDRESS" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || { tail -30 "$DATA/server.log" >&2; die "the server did not become healthy within 90s"; }
    server_pid >/dev/null || { tail -30 "$DATA/server.log" >&2; die "the server exited"; }
    sleep 1
  done
  until "$cli" operator namespace describe --namespace "$NAMESPACE" --address "$ADDRESS" >/dev/null 2>&1; do
    "$cli" operator namespace create --namespace "$NAMESPACE" --retention 72h --address "$ADDRESS" >/dev/null 2>&1 || true
    [ $SECONDS -lt $deadline ] || die "could not create namespace $NAMESPACE"
    sleep 1
  done
  # SQL visibility has a fixed number of columns per type for custom attributes (Keyword 10, Bool/Int/Double/
  # Datetime/Text/KeywordList 3 each): check ours fit before asking.
  local counts; counts="$(search_attributes | awk '{print $2}' | sort | uniq -c)"
  echo "$counts" | while read -r n type; do
    local cap=3; [ "$type" = Keyword ] && cap=10
    [ "$n" -le "$cap" ] || die "$n custom $type search attributes do not fit SQL visibility (at most $cap)"
  done
  local existing; existing="$("$cli" operator search-attribute list --namespace "$NAMESPACE" --address "$ADDRESS" 2>/dev/null || true)"
  search_attributes | while read -r name type; do
    echo "$existing" | grep -qw "$name" && continue
    "$cli" operator search-attribute create --namespace "$NAMESPACE" --name "$name" --type "$type" --address "$ADDRESS" --yes >/dev/null 2>&1 \
      || "$cli" operator search-attribute create --namespace "$NAMESPACE" --name "$name" --type "$type" --address "$ADDRESS" >/dev/null
  done
}

start() {
  build
  pg_start
  schemas
  if server_pid >/dev/null; then say "already running at $ADDRESS (pid $(server_pid))"; return 0; fi
  port_open "$FRONTEND" && die "port $FRONTEND is taken by something else; set TEMPORAL_CLUSTER_PORT"
  write_config
  say "starting the Temporal server $VERSION at $ADDRESS (PostgreSQL on $HOST:$PGPORT, metrics on $HOST:$METRICS)"
  nohup "$TOOLS/temporal-server" --config-file "$DATA/temporal.yaml" --allow-no-auth start >"$DATA/server.log" 2>&1 &
  echo $! >"$DATA/server.pid"
  register
  say "ready: TEMPORAL_ADDRESS=$ADDRESS TEMPORAL_NAMESPACE=$NAMESPACE"
}

stop() {
  local pid
  if pid="$(server_pid)"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$pid" 2>/dev/null || true
    say "server stopped"
  fi
  rm -f "$DATA/server.pid"
  if [ -s "$DATA/pg/PG_VERSION" ]; then
    local bin; bin="$(pg_bin)"
    if as_postgres "$bin/pg_ctl" -D "$DATA/pg" status >/dev/null 2>&1; then
      as_postgres "$bin/pg_ctl" -D "$DATA/pg" -m fast -w stop >/dev/null && say "PostgreSQL stopped"
    fi
  fi
}

case "${1:-}" in
  build) build; echo "$TOOLS" ;;
  start) start ;;
  stop) stop ;;
  reset) stop; rm -rf "$DATA"; say "data removed" ;;
  status)
    if pid="$(server_pid)"; then echo "running: pid $pid, TEMPORAL_ADDRESS=$ADDRESS, metrics http://$HOST:$METRICS/metrics, PostgreSQL $HOST:$PGPORT"; else echo "stopped"; exit 1; fi ;;
  pids)
    # For measurements: the server's pid and PostgreSQL's postmaster pid.
    echo "server $(server_pid || echo -)"; echo "postgres $(head -1 "$DATA/pg/postmaster.pid" 2>/dev/null || echo -)" ;;
  test)
    shift
    stop; rm -rf "$DATA"
    trap stop EXIT
    start
    cd "$ROOT"
    AUDIT_SPIKE_TEST_TEMPORAL_ADDRESS="$ADDRESS" npx jest --runInBand test/e2e/pipeline.test.ts "$@"
    ;;
  *) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
