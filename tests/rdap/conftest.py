"""What the RDAP tests share: a fresh answer table, fixed settings, and names in every state."""

import datetime
import json

import pytest

from rdap import hotpath
from tests.badges.helpers import live_domain

BASE = "https://rdap.example.test/rdap/"


@pytest.fixture(autouse=True)
def _rdap_isolation(settings):
    settings.RDAP_BASE_URL = BASE
    settings.RDAP_CHECK_INTERVAL = 0  # every request reads the versions: a change is seen at once
    settings.RDAP_RATE_LIMIT = 1000
    settings.DNS_NAMESERVERS = [("ns1.conac.cn", ["203.119.25.1"]), ("ns2.conac.cn", ["2001:dc7::1"])]
    hotpath.table.clear()
    yield
    hotpath.table.clear()


def rdap(client, path, **extra):
    """GET /rdap/<path>; returns (response, decoded JSON or None)."""
    response = client.get("/rdap/" + path, **extra)
    body = json.loads(response.content) if response.content else None
    return response, body


@pytest.fixture
def active(unit):
    """注册成功 IDN name of the 党政机关 ``unit``."""
    domain = live_domain(unit, "海淀测试局")
    domain.registered_on = datetime.date(2025, 3, 1)
    domain.expires_on = datetime.date(2027, 3, 1)
    domain.save()
    return domain
