"""Against the running server: a standard RDAP client from PyPI, and the page in a browser at 375 px.

whoisit is pointed at us the way every client finds a registry: through IANA's RDAP bootstrap
data, here a copy whose ``dns`` service lists our two TLDs with this server's base URL.
"""

import datetime
import json
import time

import pytest
import whoisit
from django.conf import settings
from playwright.sync_api import expect

from registry.organisations.regions import load_regions
from tests import factories
from tests.badges.helpers import live_domain
from tests.concurrency import _whole_tree_back_after_module  # noqa: F401  (the region tree after a flush)


@pytest.fixture(autouse=True)
def _regions(transactional_db):
    load_regions()  # a live-server test flushes the tables after itself; idempotent


@pytest.fixture
def served(live_server, settings):
    settings.RDAP_BASE_URL = live_server.url + "/rdap/"
    unit = factories.make_unit(name="海淀区测试局", region_code="110108")
    domain = live_domain(unit, "海淀测试局")
    domain.registered_on = datetime.date(2025, 3, 1)
    domain.expires_on = datetime.date(2027, 3, 1)
    domain.save()
    return live_server.url + "/rdap/"


def bootstrap(base):
    """IANA's bootstrap files (RFC 9224) in whoisit's saved form: our TLDs → our base URL."""
    other = {"services": [[["0.0.0.0/0"], ["https://rdap.example.net/"]]]}
    return json.dumps({
        "timestamp": int(time.time()),
        "dns": {"version": "1.0", "services": [[["xn--zfr164b", "xn--55qw42g", "政务", "公益"], [base]]]},
        "asn": {"services": [[["1-4199999999"], ["https://rdap.example.net/"]]]},
        "ipv4": other,
        "ipv6": {"services": [[["::/0"], ["https://rdap.example.net/"]]]},
        "object": {"services": [[["x@example.net"], ["EXAMPLE"], ["https://rdap.example.net/"]]]},
    })  # fmt: skip


def test_a_standard_rdap_client_reads_registrant_dates_and_status(served):
    whoisit.clear_bootstrapping()
    whoisit.load_bootstrap_data(bootstrap(served), allow_insecure=True)
    try:
        for asked in ("海淀测试局.政务", "xn--dgt990b0d2lx14k.xn--zfr164b"):
            result = whoisit.domain(asked, allow_insecure_ssl=True)
            assert result["name"] == "xn--dgt990b0d2lx14k.xn--zfr164b"
            assert result["unicode_name"] == "海淀测试局.政务"
            assert result["status"] == ["active"]
            assert result["registration_date"].date() == datetime.date(2025, 3, 1)
            assert result["expiration_date"].date() == datetime.date(2027, 3, 1)
            [registrant] = result["entities"]["registrant"]
            assert registrant["name"] == "海淀区测试局"
            assert "email" not in registrant and "phone" not in registrant
            assert result["entities"]["registrar"][0]["handle"] == "CONAC"
            assert "Registrant Email" in result["redacted"]
            assert result["nameservers"] == [name for name, _ in settings.DNS_NAMESERVERS]
        with pytest.raises(whoisit.errors.ResourceDoesNotExist):
            whoisit.domain("无人注册.政务", allow_insecure_ssl=True)
    finally:
        whoisit.clear_bootstrapping()


def test_the_lookup_page_works_at_375_px_with_the_keyboard(served, live_server, page):
    page.set_default_timeout(10_000)
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(live_server.url + "/login/")
    page.get_by_role("link", name="域名信息查询").first.click()
    expect(page.get_by_role("heading", name="域名信息查询")).to_be_visible()
    name_field = page.get_by_label("域名", exact=True)
    for _ in range(10):  # from the top of the page, by Tab alone
        if page.evaluate("document.activeElement && document.activeElement.id") == "id_name":
            break
        page.keyboard.press("Tab")
    expect(name_field).to_be_focused()
    page.keyboard.type("海淀测试局.政务")
    page.keyboard.press("Enter")
    result = page.locator("#lookup-result")
    expect(result).to_contain_text("海淀区测试局")
    expect(result).to_contain_text("注册成功")
    expect(result).to_contain_text("2027年3月1日")
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    name_field.fill("无人注册.政务")
    page.get_by_role("button", name="查询").click()
    expect(page.locator("#lookup-free")).to_contain_text("尚未注册")
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
