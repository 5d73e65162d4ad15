"""The badge snippet in headless Chromium, on pages served by a local HTTP server under the badge's
own host names and others (``--host-resolver-rules`` maps every name to 127.0.0.1), each page
with a strict Content Security Policy that allows scripts and images from the badge host only.

The badge is drawn and its link opens the 标识证书; under ``evil`` + the domain and the domain
+ ``.attacker.test`` the error variant is drawn (and the certificate page warns); it works
loaded with ``async``, ``defer``, inserted by another script, and with no span in the page;
after 撤销 the next load shows the error variant. Nothing is ever written to the console.
"""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib.staticfiles import finders
from playwright.sync_api import expect

from badges import public, queries, services
from badges.hotpath import entries
from tests import factories
from tests.badges.helpers import approve_both, at, awaiting_paper, live_domain, submit
from tests.browser.pages import SCREENSHOTS

BADGE_HOST = "bszs.test"


class Pages:
    """A plain HTTP server for the pages that carry the badge: path → (HTML, extra script-src)."""

    def __init__(self):
        self.pages = {}
        self.badge_origin = ""
        pages = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                path = self.path.split("?")[0]
                if path == "/loader.js":
                    body, content_type, csp = pages.loader.encode(), "application/javascript", None
                elif path in pages.pages:
                    html, self_scripts = pages.pages[path]
                    body, content_type = html.encode(), "text/html; charset=utf-8"
                    script_src = f"{pages.badge_origin} 'self'" if self_scripts else pages.badge_origin
                    csp = (
                        f"default-src 'none'; script-src {script_src}; img-src {pages.badge_origin}; "
                        "style-src 'none'; base-uri 'none'; form-action 'none'"
                    )
                else:
                    self.send_response(204 if path == "/favicon.ico" else 404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                if csp:
                    self.send_header("Content-Security-Policy", csp)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.loader = ""
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def add(self, path, body, *, self_scripts=False):
        self.pages[path] = (
            '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>测试页</title></head>'
            f"<body><h1>政务公开</h1>{body}<p id='after'>页脚</p></body></html>",
            self_scripts,
        )

    def url(self, host, path):
        return f"http://{host}:{self.port}{path}"


@pytest.fixture
def pages():
    server = Pages()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def browser(browser_type, browser_type_launch_args):
    args = [*browser_type_launch_args.get("args", []), "--host-resolver-rules=MAP * 127.0.0.1"]
    browser = browser_type.launch(**{**browser_type_launch_args, "args": args})
    yield browser
    browser.close()


@pytest.fixture
def badge_site(live_server, settings, pages):
    """A 党政机关 with a badge for 海淀测试局.政务 and hd.example.gov.cn; the badge host is the live server."""
    port = live_server.url.rsplit(":", 1)[1]
    settings.BADGE_BASE_URL = f"http://{BADGE_HOST}:{port}"
    settings.BADGE_PUBLIC_CHECK_INTERVAL = 0
    entries.table.clear()
    pages.badge_origin = settings.BADGE_BASE_URL
    unit = factories.make_unit(username="badge_js", name="海淀区测试局", region_code="110108")
    office_user = factories.make_staff("badge_js_office", "110108")
    conac_user = factories.make_staff("badge_js_conac", None, role="conac")
    domain = live_domain(unit, "海淀测试局")
    application = awaiting_paper(
        domain,
        office_user,
        conac_user,
        english_domain="hd.example.gov.cn",
        home_url=f"http://{domain.full_name}/",
    )
    badge = services.confirm_paper(application, actor=office_user, now=at(2025, 9, 26))
    yield badge
    entries.table.clear()


def open_page(browser, url):
    """A new visitor (fresh cache) on ``url``; returns the page and what it wrote to the console."""
    context = browser.new_context()
    page = context.new_page()
    console = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    page.goto(url)
    return page, console


def drawn(page):
    image = page.locator("#_ideConac a img")
    expect(image).to_have_count(1)
    expect(image).to_have_js_property("complete", True)
    assert image.evaluate("img => img.naturalWidth") == 160  # loaded under the CSP
    assert image.get_attribute("width") == "80" and image.get_attribute("height") == "80"
    return image


def snippet(badge, **attributes):
    extra = "".join(f" {name}" for name in attributes)
    return f'<span id="_ideConac"></span><script type="text/javascript"{extra} src="{queries.badge_script_url(badge)}"></script>'


def test_the_badge_is_drawn_on_its_own_site_and_opens_its_certificate(browser, pages, badge_site):
    badge = badge_site
    pages.add("/", snippet(badge))
    page, console = open_page(browser, pages.url("海淀测试局.政务", "/"))

    assert page.evaluate("location.hostname").startswith("xn--")  # Chromium sends the A-label
    image = drawn(page)
    expect(image).to_have_attribute("alt", "党政机关网站标识")
    assert image.get_attribute("src").endswith("/static/badges/red.png")
    link = page.locator("#_ideConac a")
    expect(link).to_have_attribute("href", queries.certificate_url(badge))
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener")
    page.screenshot(path=str(SCREENSHOTS / "badge-script.png"))

    with page.context.expect_page() as opened:
        image.click()
    certificate = opened.value
    certificate.wait_for_load_state()
    expect(certificate.get_by_role("heading", name="标识证书")).to_be_visible()
    expect(certificate.get_by_text("本标识有效。")).to_be_visible()
    expect(certificate.get_by_text(badge.code)).to_be_visible()
    expect(certificate.get_by_text("该标识显示在不属于它的网站上")).to_have_count(0)
    certificate.set_viewport_size({"width": 390, "height": 844})  # a phone
    certificate.screenshot(path=str(SCREENSHOTS / "badge-certificate.png"), full_page=True)
    assert console == []


@pytest.mark.parametrize(
    "host",
    [
        "hd.example.gov.cn",
        "www.hd.example.gov.cn",
        "news.hd.example.gov.cn",
        "HD.Example.gov.cn",
        "www.海淀测试局.政务",
    ],
)
def test_the_badges_names_www_and_subdomains_pass(browser, pages, badge_site, host):
    pages.add("/page.html", snippet(badge_site))
    page, console = open_page(browser, pages.url(host, "/page.html"))

    expect(drawn(page)).to_have_attribute("alt", "党政机关网站标识")
    assert console == []


@pytest.mark.parametrize(
    "host",
    [
        "evil海淀测试局.政务",
        "海淀测试局.政务.attacker.test",
        "evilhd.example.gov.cn",
        "hd.example.gov.cn.attacker.test",
    ],
)
def test_another_site_gets_the_error_variant_and_the_certificate_warns(browser, pages, badge_site, host):
    pages.add("/copied.html", snippet(badge_site))
    page, console = open_page(browser, pages.url(host, "/copied.html"))

    image = drawn(page)
    expect(image).to_have_attribute("alt", "网站标识与本网站不符")
    assert image.get_attribute("src").endswith("/static/badges/error-red.png")
    with page.context.expect_page() as opened:
        image.click()
    certificate = opened.value
    certificate.wait_for_load_state()
    expect(certificate.get_by_text("请注意：该标识显示在不属于它的网站上")).to_be_visible()
    assert console == []


@pytest.mark.parametrize("attribute", ["async", "defer"])
def test_async_and_defer_still_draw_into_the_span(browser, pages, badge_site, attribute):
    pages.add("/", snippet(badge_site, **{attribute: True}))
    page, console = open_page(browser, pages.url("海淀测试局.政务", "/"))

    expect(drawn(page)).to_have_attribute("alt", "党政机关网站标识")
    assert page.locator("[id=_ideConac]").count() == 1
    assert console == []


def test_without_a_span_the_badge_goes_right_after_its_script(browser, pages, badge_site):
    pages.add("/", f'<script async src="{queries.badge_script_url(badge_site)}"></script>')
    page, console = open_page(browser, pages.url("海淀测试局.政务", "/"))

    drawn(page)
    assert page.evaluate("document.getElementById('_ideConac').previousElementSibling.tagName") == "SCRIPT"
    assert page.evaluate("document.getElementById('_ideConac').nextElementSibling.id") == "after"
    assert console == []


@pytest.mark.parametrize(
    ("where", "span", "current_script"),
    [("body", False, True), ("head", True, True), ("body", False, False), ("body", True, False)],
)
def test_inserted_by_another_script(browser, pages, badge_site, where, span, current_script):
    # The page's own loader (allowed by 'self') inserts the badge script after the page has loaded;
    # without document.currentScript the logic finds the script by the code in its address.
    hide = (
        ""
        if current_script
        else "Object.defineProperty(document, 'currentScript', {get: function () { return null; }});"
    )
    pages.loader = (
        "window.addEventListener('load', function () {"
        f" {hide} var s = document.createElement('script');"
        f" s.src = {queries.badge_script_url(badge_site)!r};"
        f" document.{where}.appendChild(s); }});"
    )
    body = '<span id="_ideConac"></span>' if span else ""
    pages.add("/", body + '<script src="/loader.js"></script>', self_scripts=True)
    page, console = open_page(browser, pages.url("海淀测试局.政务", "/"))

    expect(drawn(page)).to_have_attribute("alt", "党政机关网站标识")
    assert page.locator("[id=_ideConac]").count() == 1
    assert console == []


def test_an_unknown_code_draws_nothing_and_logs_nothing(browser, pages, badge_site):
    unknown = queries.badge_script_url(badge_site).replace(badge_site.code, "CA110010008999999990001")
    unknown = unknown.replace(f"/{badge_site.code[11:19]}/", "/99999999/")
    pages.add("/", f'<span id="_ideConac"></span><script src="{unknown}"></script>')
    page, console = open_page(browser, pages.url("海淀测试局.政务", "/"))

    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.getElementById('_ideConac').childNodes.length") == 0
    assert console == []


def test_after_revocation_the_next_load_shows_the_error_variant(browser, pages, badge_site):
    pages.add("/", snippet(badge_site))
    page, _ = open_page(browser, pages.url("海淀测试局.政务", "/"))
    expect(drawn(page)).to_have_attribute("alt", "党政机关网站标识")

    services.Badge.objects.filter(pk=badge_site.pk).update(status="revoked", revoked_at=at(2025, 11, 3))
    public.badge_changed()

    page, console = open_page(browser, pages.url("海淀测试局.政务", "/"))  # a new visitor
    image = drawn(page)
    expect(image).to_have_attribute("alt", "该网站标识已撤销")
    assert image.get_attribute("src").endswith("/static/badges/error-red.png")
    with page.context.expect_page() as opened:
        image.click()
    opened.value.wait_for_load_state()
    expect(opened.value.get_by_text("本标识已于2025年11月3日撤销，不再有效。")).to_be_visible()
    assert console == []


def test_the_no_javascript_snippet_shows_the_image_and_its_error_variant(browser, pages, badge_site):
    pages.add("/", queries.badge_static_snippet(badge_site))
    url = pages.url("海淀测试局.政务", "/")
    page, console = open_page(browser, url)
    image = page.get_by_role("link").get_by_role("img", name="党政机关网站标识")
    expect(image).to_have_js_property("complete", True)
    assert image.evaluate("img => img.naturalWidth") == 160
    assert console == []

    services.Badge.objects.filter(pk=badge_site.pk).update(status="revoked", revoked_at=at(2025, 11, 3))
    public.badge_changed()
    page = browser.new_context().new_page()
    with page.expect_response(lambda response: "/img/" in response.url) as answered:
        page.goto(url)
    with open(finders.find("badges/error-red.png"), "rb") as error_image:  # noqa: PTH123
        assert answered.value.body() == error_image.read()


@pytest.fixture
def institution_badge(badge_site):
    """A 事业单位's blue badge (issued at CONAC's approval)."""
    unit = factories.make_unit(
        username="badge_js_inst", name="海淀区示范图书馆", region_code="110108", kind="institution"
    )
    office_user = factories.make_staff("badge_js_office2", "110108")
    conac_user = factories.make_staff("badge_js_conac2", None, role="conac")
    domain = live_domain(unit, "海淀示范图书馆")
    return approve_both(submit(domain), office_user, conac_user).badge


def test_an_institutions_badge_is_blue(browser, pages, institution_badge):
    pages.add("/", snippet(institution_badge))
    page, console = open_page(browser, pages.url("海淀示范图书馆.公益", "/"))

    image = drawn(page)
    expect(image).to_have_attribute("alt", "事业单位网站标识")
    assert image.get_attribute("src").endswith("/static/badges/blue.png")
    assert console == []
