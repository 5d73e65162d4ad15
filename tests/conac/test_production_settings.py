"""Production settings keep database connections (checked before reuse), and the session is not
written on every request while the idle timeout still holds."""

import datetime
import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conac import sessions

PRINT = (
    "import json, django; from django.conf import settings as s; "
    "db = s.DATABASES['default']; print(json.dumps({'age': db['CONN_MAX_AGE'], 'health': db['CONN_HEALTH_CHECKS'], "
    "'pool': db.get('OPTIONS', {}).get('pool'), 'every': s.SESSION_SAVE_EVERY_REQUEST, "
    "'refresh': s.SESSION_REFRESH_SECONDS, 'middleware': s.MIDDLEWARE, 'engine': s.SESSION_ENGINE}))"
)


def settings_with(**env):
    """conac.settings as a process with this environment would read them."""
    ignored = {"DEBUG", "CONN_MAX_AGE", "CONN_HEALTH_CHECKS", "CACHE_URL", "SESSION_ENGINE"}
    clean = {k: v for k, v in os.environ.items() if k not in ignored}
    clean.update(
        {"DJANGO_SETTINGS_MODULE": "conac.settings", "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "example.cn", **env}
    )
    done = subprocess.run(
        [sys.executable, "-c", PRINT],
        cwd=settings.BASE_DIR,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_production_keeps_database_connections_with_health_checks():
    production = settings_with(DEBUG="False", DATABASE_URL="postgres://u:p@db:5432/conac")
    assert production["age"] >= 60 and production["health"] is True
    assert production["pool"] is None


def test_sessions_are_read_from_the_shared_cache_only_when_there_is_one():
    shared = settings_with(DEBUG="False", CACHE_URL="redis://cache:6379/1")
    assert shared["engine"] == "django.contrib.sessions.backends.cached_db"
    # Per-process memory is not shared between processes: the database alone.
    assert settings_with(DEBUG="False")["engine"] == "django.contrib.sessions.backends.db"


def test_the_development_default_opens_a_connection_per_request():
    assert settings_with(DEBUG="True", DATABASE_URL="postgres://u:p@db:5432/conac")["age"] == 0


def test_connection_settings_are_read_from_the_environment():
    chosen = settings_with(DEBUG="False", CONN_MAX_AGE="30", CONN_HEALTH_CHECKS="False")
    assert chosen["age"] == 30 and chosen["health"] is False
    pooled = settings_with(DEBUG="False", DATABASE_URL="postgres://u:p@db:5432/conac", DATABASE_POOL="True")
    assert pooled["pool"] == {"min_size": 1, "max_size": 4} and pooled["age"] == 0  # the pool keeps them


def test_the_session_is_refreshed_not_saved_on_every_request():
    production = settings_with(DEBUG="False")
    assert production["every"] is False and production["refresh"] > 0
    middleware = production["middleware"]
    after = middleware.index("django.contrib.sessions.middleware.SessionMiddleware") + 1
    assert middleware[after] == "conac.sessions.RefreshSessionMiddleware"


# --- The session in use -------------------------------------------------------------------------


def _session_writes(client, url="/"):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return [q["sql"] for q in ctx.captured_queries if "django_session" in q["sql"] and "SELECT" not in q["sql"][:8]]


@pytest.mark.django_db
def test_a_page_view_does_not_write_the_session_within_the_refresh_interval(client, office_user):
    client.force_login(office_user)
    client.get("/")  # the first view after login may renew it
    assert _session_writes(client) == []
    assert _session_writes(client) == []


@pytest.mark.django_db
def test_a_page_view_after_the_interval_renews_the_expiry(client, office_user, monkeypatch):
    client.force_login(office_user)
    client.get("/")
    key = client.session.session_key
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() + datetime.timedelta(minutes=5))
    real_time = sessions.time.time
    monkeypatch.setattr(sessions.time, "time", lambda: real_time() + settings.SESSION_REFRESH_SECONDS + 1)
    assert _session_writes(client)  # renewed now
    renewed = Session.objects.get(session_key=key).expire_date
    assert renewed > timezone.now() + datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE - 60)


@pytest.mark.django_db
def test_an_idle_session_still_ends(client, office_user):
    client.force_login(office_user)
    client.get("/")
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=1)
    )
    response = client.get("/domains/search/")
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.django_db
def test_an_anonymous_visitor_gets_no_session_row(client):
    before = Session.objects.count()
    client.get("/login/")
    assert Session.objects.count() == before
