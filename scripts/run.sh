#!/usr/bin/env bash
# make run: the system on its embedded default (SQLite, eager Celery, mail and SMS to files).
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${1:-${PORT:-8000}}"
PY=.venv/bin/python
$PY manage.py migrate --noinput -v0
$PY manage.py seed_demo
echo "网上名称注册管理系统: http://127.0.0.1:${PORT}/  (演示账号见 README.md)"
exec $PY manage.py runserver "127.0.0.1:${PORT}"
