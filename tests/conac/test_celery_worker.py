"""A real Celery worker on the real broker delivers a notice written to the test database.

`make test` sets CELERY_BROKER_URL (Redis). Without it this test fails rather than skips:
CI must prove that notices really travel through a broker to a separate worker process.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from conac.celery import app
from conac.models import Notice
from conac.tasks import send_notice
from tests.conftest import mark_service_used

WORKER_TIMEOUT = 30


@pytest.fixture(scope="module", autouse=True)
def _regions_back_after_module(django_db_blocker):
    # The transactional test flushes every table when it ends, the session-wide region
    # tree included; put it back for the tests that run after this module.
    yield
    from registry.organisations.regions import load_regions

    with django_db_blocker.unblock():
        load_regions()


def _test_database_url():
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{credentials}@{host}:{port}/{db['NAME']}"


def _start_worker(broker_url, queue, log_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "conac.test_settings",
        "DATABASE_URL": _test_database_url(),
        "CELERY_BROKER_URL": broker_url,
        "CELERY_TASK_ALWAYS_EAGER": "False",
    }
    celery = Path(sys.executable).with_name("celery")
    command = [str(celery), "-A", "conac", "worker", "-l", "info", "-c", "1", "--pool=solo"]
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat", "-Q", queue, "-n", f"{queue}@%h"]
    log = open(log_path, "wb")  # noqa: SIM115 - closed with the worker below
    process = subprocess.Popen(  # noqa: S603 - fixed command line
        command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    return process, log


def _stop_worker(process, log):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    log.close()


def test_real_worker_delivers_a_queued_notice(transactional_db, tmp_path, sms_outbox):
    broker_url = os.environ.get("CELERY_BROKER_URL", "")
    if not broker_url:
        pytest.fail(
            "CELERY_BROKER_URL is empty: the real-worker test needs a broker "
            "(make test sets redis://127.0.0.1:6379/0; for a manual run use e.g. redis://127.0.0.1:6379/15)."
        )
    if connection.vendor != "postgresql":
        pytest.fail("the real-worker test needs PostgreSQL (DATABASE_URL) so the worker can share the test database")

    queue = f"test-worker-{uuid.uuid4().hex[:10]}"
    log_path = tmp_path / "worker.log"
    notice = Notice.objects.create(
        channel=Notice.Channel.SMS,
        recipient="+8613800138000",
        template="unit_registered",
        key=f"test:{queue}",
        body="【政务和公益机构域名注册管理中心】真实worker测试",
    )

    process, log = _start_worker(broker_url, queue, log_path)
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        with app.connection_for_write(broker_url) as conn:
            send_notice.apply_async(args=[notice.pk], queue=queue, connection=conn)
        deadline = time.monotonic() + WORKER_TIMEOUT
        while time.monotonic() < deadline:
            notice.refresh_from_db()
            if notice.status != Notice.Status.QUEUED or process.poll() is not None:
                break
            time.sleep(0.3)
    finally:
        app.conf.task_always_eager = eager
        _stop_worker(process, log)
        with app.connection_for_write(broker_url) as conn:
            conn.default_channel.queue_delete(queue)

    worker_log = log_path.read_text(errors="replace")
    assert notice.status == Notice.Status.SENT, (
        f"notice is {notice.status!r} after {WORKER_TIMEOUT}s (attempts={notice.attempts}, error={notice.error!r});"
        f" worker exit code {process.returncode}; worker log:\n{worker_log[-4000:]}"
    )
    assert notice.attempts == 1 and notice.sent_at is not None
    assert "conac.tasks.send_notice" in worker_log and "succeeded" in worker_log
    # Delivered by the worker process, not in this one.
    assert sms_outbox == []
    mark_service_used("redis")
    mark_service_used("worker")
