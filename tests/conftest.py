"""Personas (a unit, another unit, its office, another office, a higher office, CONAC),
the region tree loaded once per test database, and the services report for CI."""

import os
from pathlib import Path

import pytest
from django.conf import settings

from tests import factories

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

SERVICES_REPORT = Path(settings.BASE_DIR) / "var" / "test-services.txt"
_services = {}


def pytest_report_header(config):
    from django.db import connection

    broker = os.environ.get("CELERY_BROKER_URL", "") or "(none: eager)"
    return [f"database vendor: {connection.vendor}", f"celery broker: {broker}"]


def pytest_sessionfinish(session, exitstatus):
    from django.db import connection

    lines = [f"database={connection.vendor}"]
    broker = os.environ.get("CELERY_BROKER_URL", "")
    lines.append("broker=redis" if broker.startswith("redis") and _services.get("redis") else "broker=none")
    if _services.get("worker"):
        lines.append("worker=ok")
    SERVICES_REPORT.parent.mkdir(parents=True, exist_ok=True)
    SERVICES_REPORT.write_text("\n".join(lines) + "\n")


def mark_service_used(name):
    _services[name] = True


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The whole GB/T 2260 tree and its offices, loaded once into the test database."""
    from registry.organisations.regions import load_regions

    with django_db_blocker.unblock():
        load_regions()
    yield
    # A connection left open by another thread (a live server, a test's worker thread)
    # would stop PostgreSQL from dropping the test database at the end of the session.
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
        connection.close()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture(autouse=True)
def _clear_outboxes():
    from conac import sms

    sms.outbox.clear()
    yield
    sms.outbox.clear()


@pytest.fixture(autouse=True)
def _dns_isolation(settings, tmp_path_factory):
    """Each test publishes zones into its own folder, with a fresh cache and forwarding table."""
    from django.core.cache import cache

    from registry.dns import forwarding

    settings.DNS_ZONE_DIR = str(tmp_path_factory.mktemp("zones"))
    cache.clear()
    forwarding.table.clear()
    yield
    forwarding.table.clear()


@pytest.fixture
def sms_outbox():
    from conac import sms

    return sms.outbox


# --- Personas ----------------------------------------------------------------------


@pytest.fixture
def unit(db):
    """A 县级 党政机关 in 海淀区, reviewed by 海淀区's office."""
    return factories.make_unit(username="alice", name="海淀区测试局", region_code="110108")


@pytest.fixture
def other_unit(db):
    """Another unit of the same office."""
    return factories.make_unit(username="bob", name="海淀区另一单位", region_code="110108")


@pytest.fixture
def shanghai_unit(db):
    return factories.make_unit(username="carol", name="上海市测试局", region_code="310000", level="province")


@pytest.fixture
def unit_user(unit):
    return factories.unit_user(unit)


@pytest.fixture
def other_unit_user(other_unit):
    return factories.unit_user(other_unit)


@pytest.fixture
def office_user(db):
    """Staff of 北京市海淀区委编办 (the unit's own office)."""
    return factories.make_staff("hd_staff", "110108")


@pytest.fixture
def other_office_user(db):
    """Staff of 上海市委编办."""
    return factories.make_staff("sh_staff", "310000")


@pytest.fixture
def province_office_user(db):
    """Staff of 北京市委编办 (above 海淀区: sees its units read-only)."""
    return factories.make_staff("bj_staff", "110000")


@pytest.fixture
def conac_user(db):
    from registry.models import User

    return factories.make_staff("conac_staff", None, role=User.Role.CONAC)


@pytest.fixture
def client_for(client):
    """Log a persona in: ``client_for(user)`` returns a logged-in test client."""
    from django.test import Client

    def login(user):
        c = Client()
        if user is not None:
            c.force_login(user)
        return c

    return login
