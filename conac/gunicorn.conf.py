"""Gunicorn settings for the web process (the Dockerfile's CMD and docker-compose.yml's web).

Everything comes from the environment, so one image serves any host size:
``PORT`` (default 8000) and ``WEB_CONCURRENCY`` (default 2 × CPUs + 1).
"""

import multiprocessing
import os

# Inside a container the reverse proxy reaches gunicorn over the container network,
# so it must listen on every interface of the container, not only on loopback.
bind = f"0.0.0.0:{int(os.environ.get('PORT', '8000'))}"

workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))

# Logs go to stdout/stderr, where docker (or systemd) collects them.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30

# Worker heartbeats go to a file in worker_tmp_dir; on a container's overlay /tmp a
# slow fsync can make the arbiter kill healthy workers, so use memory-backed /dev/shm.
# Gunicorn makes those files with mkstemp and unlinks them at once: no name to race for.
HEARTBEAT_DIR = "/dev/shm"  # noqa: S108  # nosec B108
if os.path.isdir(HEARTBEAT_DIR):
    worker_tmp_dir = HEARTBEAT_DIR

# Gunicorn ≥ 25 opens a control socket under $HOME, which the image's unprivileged user
# cannot write; nothing here uses gunicornc, so leave it closed.
control_socket_disable = True
