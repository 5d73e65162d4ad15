"""挂标检查 against a real HTTP server on 127.0.0.1: the snippet found, missing, or with another
badge's code; the fetcher's refusals (private, loopback, link-local, CGNAT, multicast and
reserved addresses, IPv4 and IPv6, after resolving and on every redirect, no second lookup
for DNS rebinding), its caps (size, time), HTTPS with the name in SNI; the states that
follow (已发放 → 已挂标, two misses in a row drop a hung badge back, 逾期未挂标 by the
deadline in working days) with their notices; the schedule, the task and the command.

Only 127.0.0.1/32 is let through the address check (HANG_CHECK_ALLOWED_NETWORKS), for the
test server; everything else private is refused exactly as in production.
"""

import datetime
import shutil
import socket
import ssl
import subprocess  # nosec B404
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.utils import timezone

from badges import hangcheck, public, queries, services, tasks
from badges.models import Badge, HangCheck
from conac.audit import history_of
from conac.models import Notice
from tests.badges.helpers import at, awaiting_paper, live_domain

MB = 1024 * 1024


# --- The local web site ------------------------------------------------------------------------


class Site:
    """A web server on 127.0.0.1: ``routes[path] = (status, headers, body)`` or a callable(handler)."""

    def __init__(self):
        self.routes = {}
        self.requests = []  # (path, Host header)
        self.sni = []
        self.server = None

    @property
    def port(self):
        return self.server.server_address[1]

    def url(self, path="/", host="127.0.0.1", scheme="http"):
        return f"{scheme}://{host}:{self.port}{path}"

    def page(self, path, html, status=200, headers=None):
        self.routes[path] = (status, {"Content-Type": "text/html; charset=utf-8", **(headers or {})}, html.encode())


def _handler(site):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            site.requests.append((self.path, self.headers.get("Host")))
            route = site.routes.get(self.path)
            if callable(route):
                return route(self)
            status, headers, body = route or (404, {}, b"not found")
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the fetcher stopped reading: that is the size cap at work

        def log_message(self, *args):
            pass

    return Handler


def _serve(site, wrap=None):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
    server.daemon_threads = True
    if wrap is not None:
        server.socket = wrap(server.socket)
    site.server = server
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return server, thread


@pytest.fixture
def site():
    site = Site()
    server, thread = _serve(site)
    yield site
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture(autouse=True)
def _only_the_test_server(settings):
    """The test server's one address is allowed; every other private address stays refused."""
    settings.HANG_CHECK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    settings.HANG_CHECK_TIMEOUT = 5.0
    settings.HANG_CHECK_CONNECT_TIMEOUT = 2.0


@pytest.fixture
def resolver(monkeypatch):
    """Test names → addresses, in place of the system resolver; counts the lookups."""
    names = {}
    lookups = []

    def getaddrinfo(host, port):
        lookups.append(host)
        if host not in names:
            raise socket.gaierror(socket.EAI_NONAME, "unknown")
        value = names[host]
        addresses = value(len(lookups)) if callable(value) else value
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses
        ]

    monkeypatch.setattr(hangcheck, "_getaddrinfo", getaddrinfo)
    return names, lookups


# --- Badges ------------------------------------------------------------------------------------


def issue(domain, office_user, conac_user, *, now=None):
    return services.confirm_paper(awaiting_paper(domain, office_user, conac_user), actor=office_user, now=now)


@pytest.fixture
def badge(unit, organ_domain, office_user, conac_user, site):
    """An issued badge of the 海淀 organ whose 网站首页地址 is the local site."""
    badge = issue(organ_domain, office_user, conac_user)
    Badge.objects.filter(pk=badge.pk).update(home_url=site.url("/"))
    badge.refresh_from_db()
    return badge


@pytest.fixture
def office_inbox(office_user):
    office_user.email = "hd-bb@example.cn"
    office_user.save(update_fields=["email"])
    return office_user.email


def page_with(snippet):
    return f"<!doctype html><html><head><title>海淀区测试局</title></head><body><p>政务公开</p>{snippet}</body></html>"


def set_status(badge, status, **fields):
    Badge.objects.filter(pk=badge.pk).update(status=status, **fields)
    badge.refresh_from_db()


# --- Found, missing, wrong code ----------------------------------------------------------------


def test_the_snippet_with_the_right_code_hangs_the_badge(badge, site, django_capture_on_commit_callbacks):
    site.page("/", page_with(queries.badge_snippet(badge)))
    now = timezone.now()

    with django_capture_on_commit_callbacks(execute=True):
        check = services.check_badge(badge, now=now)

    assert check.found and check.http_status == 200 and check.bytes_read > 0
    assert check.note == f"找到标识代码（{badge.code}）"
    assert check.url == site.url("/")
    badge.refresh_from_db()
    assert badge.status == "hung" and badge.hung_at == now
    assert (badge.last_checked_at, badge.last_check_found, badge.last_check_note) == (now, True, check.note)
    assert [e.action for e in history_of(badge)][0] == "已挂标"
    assert cache.get(public.VERSION_KEY) is not None  # the public copies were told
    assert site.requests == [("/", f"127.0.0.1:{site.port}")]


def test_the_no_javascript_image_naming_the_code_counts(badge, site):
    image = f'<a href="https://bszs.conac.cn/"><img src="https://bszs.conac.cn/img/{badge.code}.png" alt="标识"></a>'
    site.page("/", page_with(image))

    assert services.check_badge(badge).found
    assert Badge.objects.get(pk=badge.pk).status == "hung"


def test_a_page_without_the_snippet_is_not_found(badge, site):
    site.page("/", page_with("<p>没有标识</p>"))

    check = services.check_badge(badge)

    assert not check.found and check.note == "未找到标识代码"
    badge.refresh_from_db()
    assert badge.status == "issued" and badge.last_check_found is False and badge.missed_checks == 0
    assert HangCheck.objects.filter(badge=badge).count() == 1


def test_another_badges_code_is_not_found_and_the_note_names_it(badge, site):
    other = "CA110010008" + "99999999" + "0001"
    snippet = queries.badge_snippet(badge).replace(badge.code, other)
    site.page("/", page_with(snippet))

    check = services.check_badge(badge)

    assert not check.found
    assert "另一个标识编号" in check.note and other in check.note
    assert Badge.objects.get(pk=badge.pk).status == "issued"


def test_the_code_served_from_another_host_is_not_the_badge(badge, site):
    site.page("/", page_with(f'<script src="https://evil.example/js/{badge.code}.js"></script>'))

    check = services.check_badge(badge)

    assert not check.found and "evil.example" in check.note


def test_the_code_as_plain_text_is_not_a_badge(badge, site):
    site.page("/", page_with(f"<p>标识编号 {badge.code}</p>"))

    assert not services.check_badge(badge).found


def test_an_error_page_is_not_found_whatever_it_says(badge, site):
    site.page("/", page_with(queries.badge_snippet(badge)), status=500)

    check = services.check_badge(badge)

    assert not check.found and check.http_status == 500 and "HTTP 500" in check.note


def test_the_host_header_is_the_sites_name_in_ascii(unit, office_user, conac_user, site, resolver):
    """The real 网站首页地址 (a .政务 name), resolved once, connected by address, asked by name."""
    names, lookups = resolver
    domain = live_domain(unit, "海淀测试局")
    badge = issue(domain, office_user, conac_user)
    host = hangcheck.parse_target(badge.home_url).host
    assert host == f"{domain.alabel}.xn--zfr164b" and host.startswith("xn--")
    names[host] = ["127.0.0.1"]
    Badge.objects.filter(pk=badge.pk).update(home_url=f"http://{domain.full_name}:{site.port}/")
    badge.refresh_from_db()
    site.page("/", page_with(queries.badge_snippet(badge)))

    assert services.check_badge(badge).found
    assert site.requests == [("/", f"{host}:{site.port}")]
    assert lookups == [host]


# --- Refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "10.1.2.3",  # private
        "172.16.0.1",
        "192.168.1.10",
        "127.0.0.2",  # loopback outside the test's /32
        "169.254.169.254",  # link-local: the cloud metadata service
        "100.64.0.1",  # shared address space (CGNAT)
        "224.0.0.1",  # multicast
        "240.0.0.1",  # reserved
        "0.0.0.0",  # unspecified
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd12:3456::1",
        "ff02::1",
        "::ffff:10.0.0.1",  # IPv4-mapped private
        "::ffff:127.0.0.1",  # IPv4-mapped loopback: not the allowed 127.0.0.1 itself
        "2002:a00:1::1",  # 6to4 of 10.0.0.1
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "2001:db8::1",  # documentation
    ],
)
def test_private_and_special_addresses_are_refused(address):
    assert not hangcheck.permitted(address)
    host = f"[{address}]" if ":" in address else address
    fetched = hangcheck.fetch(f"http://{host}:8080/")
    assert fetched.status is None and fetched.bytes_read == 0
    assert "不予访问" in fetched.error


@pytest.mark.parametrize("address", ["8.8.8.8", "202.96.0.10", "2001:4860:4860::8888", "64:ff9b::808:808"])
def test_public_addresses_pass(address):
    assert hangcheck.is_public_address(address)


def test_the_allowlist_is_exactly_what_the_setting_says(settings):
    assert hangcheck.permitted("127.0.0.1")
    settings.HANG_CHECK_ALLOWED_NETWORKS = []
    assert not hangcheck.permitted("127.0.0.1")
    assert "不予访问" in hangcheck.fetch("http://127.0.0.1:9/").error


def test_production_allows_no_private_network():
    assert django_settings.HANG_CHECK_ALLOWED_NETWORKS == ["127.0.0.1/32"]  # this module's fixture
    from conac import settings as production

    assert production.HANG_CHECK_ALLOWED_NETWORKS == []


@pytest.mark.parametrize(
    "url", ["ftp://127.0.0.1/", "file:///etc/passwd", "gopher://127.0.0.1:70/", "javascript:alert(1)"]
)
def test_only_http_and_https_are_fetched(url, site):
    fetched = hangcheck.fetch(url)

    assert "http 或 https" in fetched.error and site.requests == []


def test_a_redirect_to_a_private_address_is_refused(badge, site):
    site.routes["/"] = (302, {"Location": "http://192.168.1.10/admin"}, b"")

    check = services.check_badge(badge)

    assert not check.found and check.http_status == 302
    assert "192.168.1.10" in check.note and "不予访问" in check.note
    assert site.requests == [("/", f"127.0.0.1:{site.port}")]


def test_a_redirect_to_a_name_that_resolves_privately_is_refused(badge, site, resolver):
    names, lookups = resolver
    names["intranet.example"] = ["10.0.0.8"]
    site.routes["/"] = (301, {"Location": "http://intranet.example/"}, b"")

    check = services.check_badge(badge)

    assert not check.found and "10.0.0.8" in check.note
    assert lookups == ["intranet.example"]


def test_a_name_with_one_private_address_among_public_ones_is_refused(resolver):
    names, _ = resolver
    names["mixed.example"] = ["8.8.8.8", "10.0.0.1"]

    assert "10.0.0.1" in hangcheck.fetch("http://mixed.example/").error


def test_an_allowed_redirect_is_followed_and_recorded(badge, site):
    site.routes["/"] = (301, {"Location": "/index.html"}, b"")
    site.page("/index.html", page_with(queries.badge_snippet(badge)))

    check = services.check_badge(badge)

    assert check.found and "重定向至" in check.note and "/index.html" in check.note
    assert [p for p, _ in site.requests] == ["/", "/index.html"]


def test_a_chinese_path_is_sent_percent_encoded(badge, site):
    site.page("/%E9%A6%96%E9%A1%B5.html?a=1", page_with(queries.badge_snippet(badge)))

    def redirect_in_utf8(handler):
        handler.wfile.write("HTTP/1.1 302 Found\r\nLocation: /首页.html?a=1\r\nContent-Length: 0\r\n\r\n".encode())

    site.routes["/"] = redirect_in_utf8

    assert services.check_badge(badge).found
    assert [p for p, _ in site.requests] == ["/", "/%E9%A6%96%E9%A1%B5.html?a=1"]


def test_redirects_stop_after_five(badge, site):
    for n in range(10):
        site.routes[f"/{n}"] = (302, {"Location": f"/{n + 1}"}, b"")
    Badge.objects.filter(pk=badge.pk).update(home_url=site.url("/0"))
    badge.refresh_from_db()

    check = services.check_badge(badge)

    assert not check.found and "重定向超过 5 次" in check.note
    assert len(site.requests) == 6  # the first request and five redirects


def test_a_name_is_resolved_once_per_hop_so_rebinding_cannot_redirect_the_connection(site, resolver):
    """DNS rebinding: the first answer is public (here: the allowed test address), later ones
    private. The fetcher connects to the address it vetted and never asks again."""
    names, lookups = resolver
    names["rebind.example"] = lambda n: ["127.0.0.1"] if n == 1 else ["10.0.0.1"]
    site.page("/", "<html>ok</html>")

    fetched = hangcheck.fetch(f"http://rebind.example:{site.port}/")

    assert fetched.status == 200 and fetched.body == b"<html>ok</html>"
    assert lookups == ["rebind.example"]
    assert site.requests == [("/", f"rebind.example:{site.port}")]


# --- Caps --------------------------------------------------------------------------------------


def test_an_oversized_page_is_cut_at_2_mb(badge, site):
    assert django_settings.HANG_CHECK_MAX_BYTES == 2 * MB
    filler = "<p>" + "政" * (3 * MB // 3) + "</p>"
    site.page("/", page_with(filler + queries.badge_snippet(badge)))

    check = services.check_badge(badge)

    assert check.bytes_read == 2 * MB
    assert not check.found and "页面超过 2 MB，只检查了前 2 MB" in check.note
    assert HangCheck.objects.get(badge=badge).bytes_read == 2 * MB


def test_a_page_just_under_the_cap_is_read_whole(badge, site, settings):
    settings.HANG_CHECK_MAX_BYTES = 64 * 1024
    bare = page_with(queries.badge_snippet(badge)).replace("政务公开", "")
    html = bare.replace("<p></p>", "<p>" + "x" * (64 * 1024 - len(bare.encode())) + "</p>")
    assert len(html.encode()) == 64 * 1024
    site.page("/", html)

    check = services.check_badge(badge)

    assert check.found and check.bytes_read == 64 * 1024 and "只检查了" not in check.note


def test_a_trickling_server_meets_the_total_timeout(badge, site, settings):
    settings.HANG_CHECK_TIMEOUT = 1.0

    def trickle(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", "100000")
        handler.end_headers()
        for _ in range(60):
            try:
                handler.wfile.write(b"x")
                handler.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                return
            time.sleep(0.1)

    site.routes["/"] = trickle
    started = time.monotonic()

    check = services.check_badge(badge)

    assert time.monotonic() - started < 3.0
    assert not check.found and "超时" in check.note and 0 < check.bytes_read < 100


def test_a_server_that_never_answers_meets_the_timeout(badge, site, settings):
    settings.HANG_CHECK_TIMEOUT = 1.0
    site.routes["/"] = lambda handler: time.sleep(3)
    started = time.monotonic()

    check = services.check_badge(badge)

    assert time.monotonic() - started < 2.5
    assert not check.found and "超时" in check.note and check.http_status is None


def test_a_closed_port_is_a_note_not_an_error(badge):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    Badge.objects.filter(pk=badge.pk).update(home_url=f"http://127.0.0.1:{port}/")
    badge.refresh_from_db()

    check = services.check_badge(badge)

    assert not check.found and "无法连接" in check.note


# --- HTTPS: the vetted address, the name in SNI and in the certificate check ---------------------


@pytest.fixture
def tls_site(tmp_path, settings):
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")

    def run(*args):
        subprocess.run([openssl, *args], check=True, capture_output=True, cwd=tmp_path)  # nosec B603

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Hang check test CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")  # fmt: skip
    run("req", *ec, "-keyout", "site.key", "-out", "site.csr", "-subj", "/CN=badge-site.test")
    (tmp_path / "ext.cnf").write_text(
        "subjectAltName=DNS:badge-site.test\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
    )
    run("x509", "-req", "-in", "site.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "site.pem", "-days", "2", "-extfile", "ext.cnf")  # fmt: skip
    settings.HANG_CHECK_CA_BUNDLE = str(tmp_path / "ca.pem")

    site = Site()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "site.pem", tmp_path / "site.key")
    context.sni_callback = lambda sock, name, ctx: site.sni.append(name)
    server, thread = _serve(site, wrap=lambda sock: context.wrap_socket(sock, server_side=True))
    yield site
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_https_connects_to_the_vetted_address_with_the_name_in_sni(tls_site, resolver):
    names, lookups = resolver
    names["badge-site.test"] = ["127.0.0.1"]
    tls_site.page("/", "<html>secure</html>")

    fetched = hangcheck.fetch(f"https://badge-site.test:{tls_site.port}/")

    assert fetched.error == "" and fetched.status == 200 and fetched.body == b"<html>secure</html>"
    assert tls_site.sni == ["badge-site.test"]
    assert tls_site.requests == [("/", f"badge-site.test:{tls_site.port}")]
    assert lookups == ["badge-site.test"]


def test_https_checks_the_certificate_against_the_name_not_the_address(tls_site, resolver):
    names, _ = resolver
    names["other-site.test"] = ["127.0.0.1"]  # same server, but its certificate is for badge-site.test

    fetched = hangcheck.fetch(f"https://other-site.test:{tls_site.port}/")

    assert "证书校验失败" in fetched.error and tls_site.requests == []


# --- States and notices ------------------------------------------------------------------------


def test_a_hung_badge_missing_once_stays_hung_and_twice_drops_back(
    badge, site, office_inbox, django_capture_on_commit_callbacks
):
    site.page("/", page_with(queries.badge_snippet(badge)))
    services.check_badge(badge)
    site.page("/", page_with(""))
    cache.delete(public.VERSION_KEY)

    first = services.check_badge(badge)
    badge.refresh_from_db()
    assert not first.found and badge.status == "hung" and badge.missed_checks == 1
    assert cache.get(public.VERSION_KEY) is None  # nothing public changed yet
    assert not Notice.objects.filter(template__startswith="badge_dropped").exists()

    with django_capture_on_commit_callbacks(execute=True):
        second = services.check_badge(badge)

    badge.refresh_from_db()
    assert badge.status == "issued"  # the deadline has not passed
    assert badge.missed_checks == 0 and badge.hung_at is None
    assert cache.get(public.VERSION_KEY) is not None
    entry = history_of(badge).first()
    assert (entry.action, entry.from_state, entry.to_state, entry.actor_label) == (
        "连续两次未找到标识，取消挂标",
        "已挂标",
        "已发放",
        "系统",
    )
    unit_notices = Notice.objects.filter(template="badge_dropped", key=f"badge:{badge.code}:dropped:{second.pk}")
    assert sorted(unit_notices.values_list("channel", "recipient")) == [
        ("email", "site@example.cn"),
        ("sms", "+8613912345678"),
    ]
    office = Notice.objects.get(template="badge_dropped_office")
    assert office.recipient == office_inbox and badge.code in office.subject and badge.unit.name in office.body


def test_a_miss_between_two_finds_does_not_count(badge, site):
    snippet = page_with(queries.badge_snippet(badge))
    site.page("/", snippet)
    services.check_badge(badge)
    site.page("/", page_with(""))
    services.check_badge(badge)
    site.page("/", snippet)
    services.check_badge(badge)
    site.page("/", page_with(""))
    services.check_badge(badge)

    badge.refresh_from_db()
    assert badge.status == "hung" and badge.missed_checks == 1


def test_a_hung_badge_dropped_after_its_deadline_is_overdue(badge, site, office_inbox):
    set_status(badge, "hung", hung_at=timezone.now())
    site.page("/", page_with(""))
    later = timezone.now() + datetime.timedelta(days=30)

    services.check_badge(badge, now=later)
    services.check_badge(badge, now=later + datetime.timedelta(days=7))

    badge.refresh_from_db()
    assert badge.status == "overdue"
    assert Notice.objects.filter(template="badge_dropped", channel="sms").count() == 1


def test_an_overdue_badge_found_is_hung(badge, site):
    set_status(badge, "overdue")
    site.page("/", page_with(queries.badge_snippet(badge)))

    services.check_badge(badge)

    assert Badge.objects.get(pk=badge.pk).status == "hung"


def test_red_page_and_revoked_badges_are_not_fetched(badge, site):
    site.page("/", page_with(queries.badge_snippet(badge)))
    Badge.objects.filter(pk=badge.pk).update(mount_method="redpage")
    badge.refresh_from_db()
    assert services.check_badge(badge) is None

    Badge.objects.filter(pk=badge.pk).update(mount_method="self", status="revoked")
    badge.refresh_from_db()
    assert services.check_badge(badge) is None

    assert site.requests == [] and not HangCheck.objects.exists()
    assert Badge.objects.get(pk=badge.pk).status == "revoked"


def test_a_badge_without_a_home_url_records_why(badge):
    Badge.objects.filter(pk=badge.pk).update(home_url="")
    badge.refresh_from_db()

    check = services.check_badge(badge)

    assert not check.found and check.note == "未填写网站首页地址"


# --- 逾期未挂标 by the deadline in working days ------------------------------------------------


def test_overdue_counts_working_days_across_national_day(
    unit, organ_domain, office_user, conac_user, office_inbox, django_capture_on_commit_callbacks
):
    """Issued Friday 2025-09-26: Sunday 09-28 is a make-up working day, 10-01…10-08 the holiday.
    Working days 09-28, 09-29, 09-30, 10-09, 10-10: the deadline is 10-10 (Monday–Friday would
    say 10-03), so the badge is overdue from Saturday 10-11 (itself a make-up working day)."""
    badge = issue(organ_domain, office_user, conac_user, now=at(2025, 9, 26))
    assert badge.deadline == datetime.date(2025, 10, 10)

    for day in (datetime.date(2025, 10, 4), datetime.date(2025, 10, 10)):
        assert services.mark_overdue_badges(day) == 0
    assert Badge.objects.get(pk=badge.pk).status == "issued"

    with django_capture_on_commit_callbacks(execute=True):
        assert services.mark_overdue_badges(datetime.date(2025, 10, 11)) == 1

    badge.refresh_from_db()
    assert badge.status == "overdue"
    assert cache.get(public.VERSION_KEY) is not None
    entry = history_of(badge).first()
    assert (entry.action, entry.from_state, entry.to_state) == ("逾期未挂标", "已发放", "逾期未挂标")
    notices = Notice.objects.filter(key=f"badge:{badge.code}:overdue")
    assert sorted(notices.values_list("template", "channel", "recipient")) == [
        ("badge_overdue", "email", "site@example.cn"),
        ("badge_overdue", "sms", "+8613912345678"),
        ("badge_overdue_office", "email", office_inbox),
    ]
    sms = notices.get(channel="sms")
    assert badge.code in sms.body and "2025年10月10日" in sms.body

    # Once only: the next day's run finds nothing, and no notice is queued twice.
    assert services.mark_overdue_badges(datetime.date(2025, 10, 12)) == 0
    assert Notice.objects.filter(key=f"badge:{badge.code}:overdue").count() == 3


def test_an_administrators_holiday_moves_the_deadline(unit, organ_domain, office_user, conac_user):
    from conac.models import WorkdayException

    WorkdayException.objects.create(date=datetime.date(2025, 10, 10), is_workday=False, note="测试")
    badge = issue(organ_domain, office_user, conac_user, now=at(2025, 9, 26))

    assert badge.deadline == datetime.date(2025, 10, 11)
    assert services.mark_overdue_badges(datetime.date(2025, 10, 11)) == 0
    assert services.mark_overdue_badges(datetime.date(2025, 10, 12)) == 1


def test_hung_and_revoked_badges_never_become_overdue(unit, organ_domain, office_user, conac_user):
    badge = issue(organ_domain, office_user, conac_user, now=at(2025, 9, 26))
    set_status(badge, "hung")

    assert services.mark_overdue_badges(datetime.date(2026, 1, 1)) == 0
    set_status(badge, "revoked")
    assert services.mark_overdue_badges(datetime.date(2026, 1, 1)) == 0


# --- Schedule, task, command -------------------------------------------------------------------


def test_which_badges_are_due(badge, settings):
    settings.BADGE_CHECK_INTERVAL_HOURS = 4
    settings.BADGE_RECHECK_DAYS = 7
    now = timezone.now()

    def due(**fields):
        Badge.objects.filter(pk=badge.pk).update(**fields)
        return services.badges_due_for_check(now).filter(pk=badge.pk).exists()

    assert due(status="issued", last_checked_at=None)
    assert not due(status="issued", last_checked_at=now - datetime.timedelta(hours=1))
    assert due(status="issued", last_checked_at=now - datetime.timedelta(hours=5))
    assert due(status="overdue", last_checked_at=now - datetime.timedelta(hours=5))
    assert not due(status="hung", last_checked_at=now - datetime.timedelta(days=3))
    assert due(status="hung", last_checked_at=now - datetime.timedelta(days=8))
    assert not due(status="revoked", last_checked_at=None)
    assert not due(status="issued", last_checked_at=None, mount_method="redpage")


def test_the_periodic_task_checks_the_due_badges_once(badge, site):
    site.page("/", page_with(queries.badge_snippet(badge)))

    assert tasks.check_due_badges.delay().get() == 1  # eager in tests: the checks ran
    assert Badge.objects.get(pk=badge.pk).status == "hung"
    # Just checked: not due, so a late duplicate of the task does not fetch again.
    assert tasks.check_badge.delay(badge.pk).get() is None
    assert tasks.check_due_badges.delay().get() == 0
    assert len(site.requests) == 1


def test_the_beat_schedule_runs_the_badge_jobs():
    from conac.celery import app

    schedule = django_settings.CELERY_BEAT_SCHEDULE
    names = {entry["task"] for entry in schedule.values()}
    assert {"badges.tasks.mark_overdue_badges", "badges.tasks.check_due_badges"} <= names
    app.loader.import_default_modules()
    assert {"badges.tasks.mark_overdue_badges", "badges.tasks.check_due_badges", "badges.tasks.check_badge"} <= set(
        app.tasks
    )


def test_the_daily_task_marks_overdue_badges(unit, organ_domain, office_user, conac_user):
    badge = issue(organ_domain, office_user, conac_user, now=at(2025, 9, 26))

    assert tasks.mark_overdue_badges.delay().get() == 1
    assert Badge.objects.get(pk=badge.pk).status == "overdue"


def test_the_command_checks_the_named_badges(badge, site, capsys):
    site.page("/", page_with(queries.badge_snippet(badge)))
    Badge.objects.filter(pk=badge.pk).update(last_checked_at=timezone.now())  # not due: --code checks anyway

    call_command("check_badges", "--code", badge.code)

    out = capsys.readouterr().out
    assert badge.code in out and "找到标识代码" in out and "找到 1 个" in out
    assert Badge.objects.get(pk=badge.pk).status == "hung"
    with pytest.raises(CommandError, match="CA000"):
        call_command("check_badges", "--code", "CA000000000000000000000")


def test_the_command_without_codes_checks_the_due_ones(badge, site, capsys):
    site.page("/", page_with(""))

    call_command("check_badges")

    assert "检查 1 个标识，找到 0 个" in capsys.readouterr().out
    assert HangCheck.objects.filter(badge=badge).count() == 1
