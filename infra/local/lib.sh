# shellcheck shell=bash
# Shared by infra/local/{up,down,status,pg,nats}. Sourced, never run.
#
# Everything this provisions lives outside the repository:
#   SLUICE_CACHE_DIR  binaries and the PostgreSQL root (reused across runs)
#   SLUICE_RUN_DIR    data, pid files, logs and the env file of running servers
# Nothing is ever stopped by process name: only pids and clusters recorded here.

set -euo pipefail

SLUICE_CACHE_DIR=${SLUICE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice}
SLUICE_RUN_DIR=${SLUICE_RUN_DIR:-$SLUICE_CACHE_DIR/run}
SLUICE_DEBIAN_MIRROR=${SLUICE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SLUICE_NATS_PORT=${SLUICE_NATS_PORT:-4222}
SLUICE_PG_PORT=${SLUICE_PG_PORT:-5432}
SLUICE_PG_PASSWORD=${SLUICE_PG_PASSWORD:-sluice}
SLUICE_PG_DB=${SLUICE_PG_DB:-sluice}

PG_MAJOR=17
NATS_MIN=2.10
PGROOT=$SLUICE_CACHE_DIR/pgroot
# Debian trixie's PostgreSQL packages extracted for a non-root user (no chroot).
PGX=$SLUICE_CACHE_DIR/pgextract
# Newest glibc symbol version that trixie's postgresql-17 and its libraries use.
TRIXIE_GLIBC=2.39
NATS_DIR=$SLUICE_CACHE_DIR/nats
ENV_FILE=$SLUICE_RUN_DIR/env

log() { printf '%s\n' "$*" >&2; }
die() {
  printf 'error: %s\n' "$1" >&2
  shift
  for line in "$@"; do printf '  %s\n' "$line" >&2; done
  exit 1
}

# version_ge A B: true when dotted version A >= B.
version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }

# port_open PORT: true when something accepts TCP connections on 127.0.0.1:PORT.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# free_port: a random port in 20000-59999 that nothing listens on.
free_port() {
  local p i
  for ((i = 0; i < 100; i++)); do
    p=$((20000 + RANDOM % 40000))
    port_open "$p" || {
      echo "$p"
      return
    }
  done
  die "found no free port on 127.0.0.1"
}

# pick_port PREFERRED: PREFERRED when free, else a random free port (said on stderr).
pick_port() {
  if port_open "$1"; then
    local p
    p=$(free_port)
    log "port $1 is taken by another process; using $p"
    echo "$p"
  else
    echo "$1"
  fi
}

wait_port() { # PORT SECONDS WHAT
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    port_open "$1" && return 0
    sleep 0.1
  done
  die "$3 did not open 127.0.0.1:$1 within $2 s"
}

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

read_pid() { [ -f "$1" ] && tr -dc '0-9' <"$1" || true; }

env_get() { # KEY: value recorded in the env file by a previous `up`
  [ -f "$ENV_FILE" ] && sed -n "s/^export $1='\(.*\)'\$/\1/p" "$ENV_FILE" | tail -n1 || true
}

env_put() { # KEY VALUE
  mkdir -p "$SLUICE_RUN_DIR"
  touch "$ENV_FILE"
  sed -i "/^export $1=/d" "$ENV_FILE"
  printf "export %s='%s'\n" "$1" "$2" >>"$ENV_FILE"
}

env_del() { [ -f "$ENV_FILE" ] && sed -i "/^export $1=/d" "$ENV_FILE" || true; }

# ---------------------------------------------------------------- NATS

nats_version() { "$1" --version 2>/dev/null | sed -n 's/.*v\([0-9][0-9.]*\).*/\1/p' | head -n1; }

# A private apt configuration so /etc/apt and the host's package state are never touched.
apt_private() {
  local dir=$SLUICE_CACHE_DIR/apt
  mkdir -p "$dir/lists/partial" "$dir/archives/partial" "$dir/cache"
  printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s trixie main\n' \
    "$SLUICE_DEBIAN_MIRROR" >"$dir/sources.list"
  APT_OPTS=(-q -o "Dir::Etc::SourceList=$dir/sources.list" -o Dir::Etc::SourceParts=/nonexistent
    -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache"
    -o "Dir::Cache::Archives=$dir/archives" -o Debug::NoLocking=1)
  [ "$(id -u)" = 0 ] && APT_OPTS+=(-o APT::Sandbox::User=root)
  APT_DIR=$dir
}

provision_nats() {
  command -v apt-get >/dev/null && command -v dpkg >/dev/null &&
    [ -f /usr/share/keyrings/debian-archive-keyring.gpg ] ||
    die "no nats-server >= $NATS_MIN found, and this is not a Debian system to fetch one from." \
      "Install nats-server >= $NATS_MIN (https://github.com/nats-io/nats-server/releases) and put it on PATH," \
      "or set NATS_URL to a running server with JetStream, or use Docker: docker compose -f infra/docker-compose.yml up -d"
  log "nats: fetching nats-server from Debian trixie into $NATS_DIR"
  apt_private
  local remedy=("Install nats-server >= $NATS_MIN (https://github.com/nats-io/nats-server/releases) and put it on PATH,"
    "or set NATS_URL to a running server with JetStream, or use Docker: docker compose -f infra/docker-compose.yml up -d")
  apt-get "${APT_OPTS[@]}" update --error-on=any >&2 ||
    die "could not read Debian trixie's package lists from $SLUICE_DEBIAN_MIRROR (is it reachable?)" "${remedy[@]}"
  (cd "$APT_DIR/archives" && apt-get "${APT_OPTS[@]}" download nats-server >&2) ||
    die "could not download the trixie nats-server package from $SLUICE_DEBIAN_MIRROR" "${remedy[@]}"
  rm -rf "$NATS_DIR.tmp"
  dpkg -x "$(ls -t "$APT_DIR"/archives/nats-server_*.deb | head -n1)" "$NATS_DIR.tmp"
  rm -rf "$NATS_DIR"
  mv "$NATS_DIR.tmp" "$NATS_DIR"
}

# nats_bin: path of a nats-server >= NATS_MIN, provisioning one when none is found.
nats_bin() {
  local cand v
  for cand in "${SLUICE_NATS_SERVER:-}" "$(command -v nats-server || true)" "$NATS_DIR/usr/sbin/nats-server"; do
    [ -n "$cand" ] && [ -x "$cand" ] || continue
    v=$(nats_version "$cand")
    if [ -n "$v" ] && version_ge "$v" "$NATS_MIN"; then
      echo "$cand"
      return
    fi
    log "nats: ignoring $cand (version ${v:-unknown} < $NATS_MIN)"
  done
  provision_nats
  cand=$NATS_DIR/usr/sbin/nats-server
  [ -x "$cand" ] || die "the trixie package did not contain usr/sbin/nats-server"
  echo "$cand"
}

# ---------------------------------------------------------------- PostgreSQL
# Three ways to run PostgreSQL $PG_MAJOR with pgvector without Docker:
#   host:    a PostgreSQL >= $PG_MAJOR with pgvector installed, or trixie's packages
#            extracted under the cache (non-root, on a host whose glibc >= $TRIXIE_GLIBC)
#   extract: host, before those packages are fetched (up fetches them)
#   chroot:  a Debian trixie root under the cache with postgresql-17-pgvector (needs root)

# host_pg_bindir: bindir of an installed PostgreSQL >= PG_MAJOR whose sharedir has pgvector,
# or of the extracted trixie packages.
host_pg_bindir() {
  local pgc bindir share major
  for pgc in "$(command -v pg_config || true)" /usr/lib/postgresql/*/bin/pg_config; do
    [ -x "$pgc" ] || continue
    bindir=$("$pgc" --bindir) share=$("$pgc" --sharedir)
    major=$("$pgc" --version | sed -n 's/^PostgreSQL \([0-9]*\).*/\1/p')
    [ -n "$major" ] && [ "$major" -ge "$PG_MAJOR" ] && [ -f "$share/extension/vector.control" ] &&
      [ -x "$bindir/pg_ctl" ] && {
      echo "$bindir"
      return
    }
  done
  [ -x "$PGX/usr/lib/postgresql/$PG_MAJOR/bin/pg_ctl" ] &&
    [ -f "$PGX/usr/share/postgresql/$PG_MAJOR/extension/vector.control" ] && {
    echo "$PGX/usr/lib/postgresql/$PG_MAJOR/bin"
    return
  }
  return 1
}

# pg_exec BIN ARGS…: runs a PostgreSQL program; extracted ones find their libraries.
pg_exec() {
  local bin=$1
  shift
  if [[ $bin == "$PGX"/* ]]; then
    local libs
    libs=$(printf '%s:' "$PGX"/usr/lib/*-linux-gnu "$PGX"/lib/*-linux-gnu)
    LD_LIBRARY_PATH="${libs%:}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$bin" "$@"
  else
    "$bin" "$@"
  fi
}

glibc_version() { getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}'; }

# can_extract: trixie's binaries run on this host, and apt can fetch them without root.
can_extract() {
  local v
  v=$(glibc_version)
  [ -n "$v" ] && version_ge "$v" "$TRIXIE_GLIBC" && command -v apt-get >/dev/null &&
    command -v dpkg >/dev/null && [ -f /usr/share/keyrings/debian-archive-keyring.gpg ]
}

# pg_mode: "host", "extract" or "chroot" (PG_MODE when already resolved), or dies saying
# what to install. It never provisions anything: up does.
pg_mode() {
  if [ -n "${PG_MODE:-}" ]; then
    echo "$PG_MODE"
  elif [ "$(id -u)" = 0 ]; then
    echo chroot
  elif host_pg_bindir >/dev/null; then
    echo host
  elif can_extract; then
    echo extract
  else
    local v has
    v=$(glibc_version)
    if [ -n "$v" ]; then has="glibc $v"; else has="no glibc"; fi
    die "no PostgreSQL >= $PG_MAJOR with pgvector found, and none can be provided without root on this host." \
      "Debian trixie's PostgreSQL needs glibc >= $TRIXIE_GLIBC (Debian 13, Ubuntu 24.04 or newer); this host has $has." \
      "Either install them (Debian/Ubuntu: sudo apt-get install postgresql-$PG_MAJOR postgresql-$PG_MAJOR-pgvector)," \
      "or set DATABASE_URL to a PostgreSQL >= $PG_MAJOR that has the vector extension," \
      "or run as root, so a Debian trixie root is provisioned under $SLUICE_CACHE_DIR," \
      "or use Docker: docker compose -f infra/docker-compose.yml up -d"
  fi
}

# trixie_deps PKG…: the packages PKG… need, their libraries only (lib*, never the C
# library itself: the host's runs them), found breadth first in the private apt cache,
# one apt-cache call per level (each call reads the whole cache: about a second of CPU).
trixie_deps() {
  local -A seen=()
  local level=("$@") next pkg dep
  while [ ${#level[@]} -gt 0 ]; do
    next=()
    for pkg in "${level[@]}"; do
      [ -n "${seen[$pkg]:-}" ] && continue
      seen[$pkg]=1
      echo "$pkg"
      next+=("$pkg")
    done
    [ ${#next[@]} -gt 0 ] || break
    level=()
    for dep in $(apt-cache "${APT_OPTS[@]}" depends --no-recommends --no-suggests --no-conflicts \
      --no-breaks --no-replaces --no-enhances "${next[@]}" 2>/dev/null |
      sed -n 's/^ *|\{0,1\}\(Pre\)\{0,1\}Depends: \([^<][^ ]*\)$/\2/p' | sort -u); do
      case $dep in
      libc6 | libc-bin | libc-l10n | libc6-*) ;;
      lib* | "postgresql-client-$PG_MAJOR") [ -n "${seen[$dep]:-}" ] || level+=("$dep") ;;
      esac
    done
  done
}

# provision_pgextract: trixie's postgresql-17 and pgvector, with the libraries they need,
# unpacked under the cache (no root, no chroot); checked by running postgres -V.
provision_pgextract() {
  apt_private
  apt-get "${APT_OPTS[@]}" update --error-on=any >&2 ||
    die "could not read Debian trixie's package lists from $SLUICE_DEBIAN_MIRROR (is it reachable?)" \
      "Install postgresql-$PG_MAJOR and postgresql-$PG_MAJOR-pgvector, set DATABASE_URL, or run as root."
  local pkgs
  mapfile -t pkgs < <(trixie_deps "postgresql-$PG_MAJOR" "postgresql-$PG_MAJOR-pgvector")
  [ ${#pkgs[@]} -gt 2 ] || die "could not resolve the dependencies of postgresql-$PG_MAJOR in trixie"
  rm -rf "$APT_DIR/pgx-debs" "$PGX.tmp"
  mkdir -p "$APT_DIR/pgx-debs" "$PGX.tmp"
  (cd "$APT_DIR/pgx-debs" && apt-get "${APT_OPTS[@]}" download "${pkgs[@]}" >&2) ||
    die "could not download the trixie packages: ${pkgs[*]}"
  local deb
  for deb in "$APT_DIR"/pgx-debs/*.deb; do dpkg -x "$deb" "$PGX.tmp"; done
  rm -rf "$APT_DIR/pgx-debs" "$PGX"
  mv "$PGX.tmp" "$PGX"
  local v
  v=$(pg_exec "$PGX/usr/lib/postgresql/$PG_MAJOR/bin/postgres" -V 2>&1) || {
    rm -rf "$PGX"
    die "trixie's PostgreSQL does not run on this host: $v" \
      "Install postgresql-$PG_MAJOR and postgresql-$PG_MAJOR-pgvector, set DATABASE_URL, or run as root."
  }
  log "postgres: $v unpacked (${#pkgs[@]} packages)"
}

chroot_mounts() { # mount /proc and a tmpfs /dev/shm inside the root (PostgreSQL needs both)
  mountpoint -q "$PGROOT/proc" || mount -t proc proc "$PGROOT/proc"
  mkdir -p "$PGROOT/dev/shm"
  mountpoint -q "$PGROOT/dev/shm" || mount -t tmpfs -o mode=1777 tmpfs "$PGROOT/dev/shm"
}

chroot_umounts() {
  mountpoint -q "$PGROOT/dev/shm" && umount "$PGROOT/dev/shm" || true
  mountpoint -q "$PGROOT/proc" && umount "$PGROOT/proc" || true
}

in_root() { chroot "$PGROOT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }

provision_pgroot() {
  if ! command -v debootstrap >/dev/null && command -v apt-get >/dev/null; then
    log "postgres: installing debootstrap (apt-get install debootstrap)"
    DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends debootstrap >&2 ||
      { apt-get -q update >&2 && DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends debootstrap >&2; } || true
  fi
  command -v debootstrap >/dev/null ||
    die "debootstrap is needed to provision PostgreSQL $PG_MAJOR + pgvector." \
      "Install it (apt-get install debootstrap), or set DATABASE_URL, or use infra/docker-compose.yml"
  log "postgres: building a Debian trixie root with postgresql-$PG_MAJOR-pgvector in $PGROOT (about a minute)"
  local tmp=$PGROOT.tmp
  if [ -d "$tmp" ]; then
    (PGROOT=$tmp chroot_umounts)
    rm -rf "$tmp"
  fi
  debootstrap --variant=minbase trixie "$tmp" "$SLUICE_DEBIAN_MIRROR" >"$SLUICE_CACHE_DIR/debootstrap.log" 2>&1 ||
    die "debootstrap failed; see $SLUICE_CACHE_DIR/debootstrap.log"
  printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
  chmod +x "$tmp/usr/sbin/policy-rc.d"
  (
    PGROOT=$tmp
    trap chroot_umounts EXIT
    chroot_mounts
    in_root apt-get -q update >&2
    in_root env DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends \
      "postgresql-$PG_MAJOR" "postgresql-$PG_MAJOR-pgvector" >&2
    in_root apt-get clean
    # The package creates a "main" cluster; ours are made with our own settings.
    in_root pg_dropcluster --stop "$PG_MAJOR" main 2>/dev/null || true
  ) || die "installing postgresql-$PG_MAJOR-pgvector in the trixie root failed"
  mv "$tmp" "$PGROOT"
}

ensure_pgroot() { [ -x "$PGROOT/usr/lib/postgresql/$PG_MAJOR/bin/postgres" ] || provision_pgroot; }

# Cluster helpers; NAME is a cluster name, data and pid live in the root (chroot) or run dir (host).

cluster_confd() { # NAME: the conf.d directory the cluster's postgresql.conf includes
  case $(pg_mode) in
  chroot) echo "$PGROOT/etc/postgresql/$PG_MAJOR/$1/conf.d" ;;
  host) echo "$SLUICE_RUN_DIR/pg-$1/conf.d" ;;
  esac
}

cluster_conf() { # NAME PORT: settings written at every start (extra ones from SLUICE_PG_EXTRA_CONF)
  local name=$1 port=$2 kv dir
  # shellcheck disable=SC2206 # word splitting of the extra settings is intended
  local settings=("port=$port" "listen_addresses=127.0.0.1" "max_connections=200"
    "shared_buffers=256MB" "maintenance_work_mem=512MB" ${SLUICE_PG_EXTRA_CONF:-})
  dir=$(cluster_confd "$name")
  mkdir -p "$dir"
  for kv in "${settings[@]}"; do printf "%s = '%s'\n" "${kv%%=*}" "${kv#*=}"; done >"$dir/sluice.conf"
}

cluster_exists() {
  case $(pg_mode) in
  chroot) [ -f "$PGROOT/etc/postgresql/$PG_MAJOR/$1/postgresql.conf" ] ;;
  host) [ -f "$SLUICE_RUN_DIR/pg-$1/data/PG_VERSION" ] ;;
  esac
}

cluster_create() { # NAME PORT
  local name=$1 port=$2 pwfile
  case $(pg_mode) in
  chroot)
    ensure_pgroot
    chroot_mounts
    pwfile=$(mktemp -p "$PGROOT/tmp")
    printf '%s\n' "$SLUICE_PG_PASSWORD" >"$pwfile"
    chmod 644 "$pwfile"
    in_root pg_createcluster --start-conf=manual "$PG_MAJOR" "$name" --port "$port" -- \
      --auth-host=scram-sha-256 --auth-local=trust --username=postgres --pwfile="/tmp/${pwfile##*/}" >&2
    rm -f "$pwfile"
    ;;
  host)
    local dir=$SLUICE_RUN_DIR/pg-$name bindir
    bindir=$(host_pg_bindir)
    mkdir -p "$dir/conf.d"
    pwfile=$(mktemp)
    printf '%s\n' "$SLUICE_PG_PASSWORD" >"$pwfile"
    pg_exec "$bindir/initdb" -D "$dir/data" -U postgres --auth-host=scram-sha-256 --auth-local=trust \
      --pwfile="$pwfile" >&2
    rm -f "$pwfile"
    echo "include_dir '$dir/conf.d'" >>"$dir/data/postgresql.conf"
    ;;
  esac
  cluster_conf "$name" "$port"
}

cluster_running() {
  case $(pg_mode) in
  chroot) pid_alive "$(head -n1 "$PGROOT/var/lib/postgresql/$PG_MAJOR/$1/postmaster.pid" 2>/dev/null)" ;;
  host) pid_alive "$(head -n1 "$SLUICE_RUN_DIR/pg-$1/data/postmaster.pid" 2>/dev/null)" ;;
  esac
}

cluster_port() {
  sed -n "s/^port = '\\(.*\\)'/\\1/p" "$(cluster_confd "$1")/sluice.conf"
}

cluster_start() { # NAME PORT
  local name=$1 port=$2
  cluster_conf "$name" "$port"
  case $(pg_mode) in
  chroot)
    chroot_mounts
    mkdir -p "$PGROOT/run/postgresql"
    in_root chown postgres:postgres /run/postgresql
    in_root pg_ctlcluster "$PG_MAJOR" "$name" start >&2 9>&-
    ;;
  host)
    pg_exec "$(host_pg_bindir)/pg_ctl" -D "$SLUICE_RUN_DIR/pg-$name/data" -l "$SLUICE_RUN_DIR/pg-$name/log" \
      -o "-k $SLUICE_RUN_DIR/pg-$name" -w start >&2 9>&-
    ;;
  esac
  wait_port "$port" 30 "postgres ($name)"
}

cluster_stop() { # NAME [MODE]: fast shutdown by default, "immediate" to simulate a crash
  local name=$1 how=${2:-fast}
  cluster_running "$name" || return 0
  case $(pg_mode) in
  chroot) in_root pg_ctlcluster "$PG_MAJOR" "$name" stop -m "$how" >&2 ;;
  host) pg_exec "$(host_pg_bindir)/pg_ctl" -D "$SLUICE_RUN_DIR/pg-$name/data" -m "$how" -w stop >&2 ;;
  esac
}

cluster_drop() {
  cluster_stop "$1" immediate || true
  case $(pg_mode) in
  chroot) in_root pg_dropcluster "$PG_MAJOR" "$1" >&2 ;;
  host) rm -rf "$SLUICE_RUN_DIR/pg-$1" ;;
  esac
}

# Clusters other than the main one still running (tests' private ones); the root stays
# mounted while any is up.
other_clusters_running() {
  [ "$(pg_mode)" = chroot ] || return 1
  local f name
  for f in "$PGROOT"/var/lib/postgresql/$PG_MAJOR/*/postmaster.pid; do
    [ -f "$f" ] || continue
    name=$(basename "$(dirname "$f")")
    [ "$name" != "$1" ] && cluster_running "$name" && return 0
  done
  return 1
}

pg_url() { # PORT [DB]
  printf 'postgres://postgres:%s@127.0.0.1:%s/%s' "$SLUICE_PG_PASSWORD" "$1" "${2:-$SLUICE_PG_DB}"
}

cluster_psql() { # NAME SQL: run SQL as postgres over the cluster's unix socket
  local port
  port=$(cluster_port "$1")
  case $(pg_mode) in
  chroot) in_root psql -X -q -t -A -v ON_ERROR_STOP=1 -U postgres -h /run/postgresql -p "$port" -d postgres -c "$2" ;;
  host) pg_exec "$(host_pg_bindir)/psql" -X -q -t -A -v ON_ERROR_STOP=1 -U postgres -h "$SLUICE_RUN_DIR/pg-$1" -p "$port" -d postgres -c "$2" ;;
  esac
}

# ---------------------------------------------------------------- nats-server processes

# nats_pid_ok PIDFILE: the recorded pid is alive and still a nats-server (guards pid reuse).
nats_pid_ok() {
  local pid
  pid=$(read_pid "$1")
  pid_alive "$pid" && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q nats-server
}

nats_start() { # BIN PORT DIR: start a JetStream server storing under DIR, pid in DIR.pid
  local bin=$1 port=$2 dir=$3
  mkdir -p "$dir"
  rm -f "$dir.pid"
  setsid "$bin" -js -a 127.0.0.1 -p "$port" -sd "$dir/store" -P "$dir.pid" -n "sluice-$port" \
    </dev/null >>"$dir.log" 2>&1 9>&- & # 9 is up's lock: the server must not inherit it
  wait_port "$port" 15 "nats-server (log: $dir.log)"
}

nats_stop() { # PIDFILE
  local pid i
  pid=$(read_pid "$1")
  if nats_pid_ok "$1"; then
    kill -TERM "$pid"
    for ((i = 0; i < 100; i++)); do
      pid_alive "$pid" || break
      sleep 0.1
    done
    pid_alive "$pid" && kill -KILL "$pid"
  fi
  rm -f "$1"
}
