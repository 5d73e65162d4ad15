#!/usr/bin/env bash
# make test: install what a new Debian machine lacks, find (or start) PostgreSQL and
# Redis, then run the linters, the deployment checks and the whole suite against them.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES="postgresql redis-server chromium fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 poppler-utils nsd wrk docker-compose"

install_missing_debian_packages() {
  command -v dpkg >/dev/null 2>&1 || return 0
  local missing=()
  for pkg in $DEBIAN_PACKAGES; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "缺少系统软件包（需要 root 安装）: ${missing[*]}" >&2
    return 0
  fi
  echo "安装缺少的软件包: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

start_postgresql() {
  pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && return 0
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    local version
    version=$(ls /etc/postgresql | sort -V | tail -n1)
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && return 0; sleep 1; done
  fi
  echo "找不到可用的 PostgreSQL（127.0.0.1:5432）" >&2
  return 1
}

postgres_url() {
  # Trust auth as user postgres (these machines), or a role created on a fresh cluster.
  if psql -h 127.0.0.1 -U postgres -d postgres -tAc "select 1" >/dev/null 2>&1 </dev/null; then
    echo "postgres://postgres@127.0.0.1:5432/conac"
    return
  fi
  if [ "$(id -u)" -eq 0 ] && id postgres >/dev/null 2>&1; then
    su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname='conac'\"" | grep -q 1 \
      || su postgres -c "psql -q -c \"CREATE ROLE conac LOGIN PASSWORD 'conac' CREATEDB\""
  fi
  echo "postgres://conac:conac@127.0.0.1:5432/conac"
}

start_redis() {
  redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && return 0
  if command -v redis-server >/dev/null 2>&1; then
    mkdir -p /var/lib/redis 2>/dev/null || true
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir "$(test -w /var/lib/redis && echo /var/lib/redis || echo /tmp)" >/dev/null
    for _ in $(seq 1 20); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && return 0; sleep 0.5; done
  fi
  echo "找不到可用的 Redis（127.0.0.1:6379）" >&2
  return 1
}

install_missing_debian_packages
make -s venv

if [ -z "${DATABASE_URL:-}" ]; then
  start_postgresql
  DATABASE_URL=$(postgres_url)
fi
if [ -z "${CELERY_BROKER_URL:-}" ]; then
  start_redis
  CELERY_BROKER_URL="redis://127.0.0.1:6379/0"
fi
export DATABASE_URL CELERY_BROKER_URL
PY=.venv/bin/python

echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== bandit"
.venv/bin/bandit -q -c pyproject.toml -r conac registry review billing badges rdap
echo "== makemigrations --check"
DATABASE_URL="sqlite:///:memory:" $PY manage.py makemigrations --check --dry-run >/dev/null
echo "== docker-compose config"
# Compose itself validates the file (no daemon needed), with the example settings as .env.
if command -v docker-compose >/dev/null 2>&1; then
  compose_dir=$(mktemp -d)
  cp docker-compose.yml "$compose_dir/" && cp .env.example "$compose_dir/.env"
  [ -d deploy ] && ln -s "$PWD/deploy" "$compose_dir/deploy"
  (cd "$compose_dir" && SECRET_KEY=compose-config-check docker-compose config -q)
  rm -rf "$compose_dir"
else
  echo "缺少 docker-compose，无法检查 docker-compose.yml（需要 root 安装 Debian 软件包 docker-compose）" >&2
  exit 1
fi
echo "== check --deploy (production-like settings)"
DEBUG=False CACHE_URL="redis://127.0.0.1:6379/1" SECRET_KEY="check-deploy-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
  ALLOWED_HOSTS=registry.example.cn $PY manage.py check --deploy --fail-level WARNING
echo "== pytest"
# Playwright drives the browser from the test thread while live_server serves from another.
export DJANGO_ALLOW_ASYNC_UNSAFE=true
exec .venv/bin/pytest "$@"
