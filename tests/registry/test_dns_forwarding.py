"""URL转发 through real HTTP: the first middleware answers forwarded hosts from process memory.

Records are made the way a unit makes them (``request_add`` → 解析审核 by CONAC), and the
requests go over a socket to pytest-django's live server (a real server thread, so the
Host header arrives as raw bytes) or, for the change seen by another process, to a
gunicorn started here on the same test database and the same Redis.
"""

import datetime
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from django.db import connection
from django.utils import timezone

from billing import jobs
from registry.dns import forwarding
from registry.dns import services as dns_services
from registry.dns.models import DnsRecord
from registry.domains.services import delete_domain
from registry.models import Domain
from registry.organisations.regions import load_regions
from review.services import approve
from tests.factories import make_domain

ZONE = "xn--zfr164b"  # .政务
# The personas' regions only, for the transactional tests (a live server, or a second process
# reading committed rows): a flush empties the tree after each of them.
PERSONA_REGIONS = "110000 北京市\n110108 海淀区\n310000 上海市\n"
STAFF_TRACES = ("登录", "网上名称注册管理系统", "csrf", "sessionid")
# A Redis database of its own for the two-process test (its keys are deleted, the db is not flushed).
REDIS_DB = 11


@pytest.fixture(scope="module", autouse=True)
def _whole_tree_back_after_module(django_db_blocker):
    # Module scope: torn down after the last test's flush, so later tests find every region.
    yield
    with django_db_blocker.unblock():
        load_regions()
        connection.close()


@pytest.fixture
def persona_regions(transactional_db, tmp_path):
    path = tmp_path / "divisions.txt"
    path.write_text(PERSONA_REGIONS, encoding="utf-8")
    load_regions(path)


@pytest.fixture
def live(persona_regions, live_server):
    """The live server's port (requested before the personas, so the regions are there)."""
    return urlsplit(live_server.url).port


# --- helpers ------------------------------------------------------------------------------


def forwarded(unit_user, conac_user, label, *, host="@", target, code=301, keep_path=True):
    """A 注册成功 domain with one approved URL转发 record (the unit asks, CONAC approves)."""
    today = timezone.localdate()
    domain = Domain.objects.filter(unit=unit_user.unit, label=label).first() or make_domain(
        unit_user.unit,
        label,
        status="active",
        registered_on=today - datetime.timedelta(days=10),
        expires_on=today + datetime.timedelta(days=355),
    )
    add_url(domain, unit_user, conac_user, host=host, target=target, code=code, keep_path=keep_path)
    return domain


def add_url(domain, unit_user, conac_user, *, host="@", target, code=301, keep_path=True):
    change = dns_services.request_add(
        domain, actor=unit_user, host=host, rtype="URL", value=target, redirect_code=code, keep_path=keep_path
    )
    approve(change, actor=conac_user)
    change.refresh_from_db()
    return DnsRecord.objects.get(pk=change.record_id)


def fetch(port, host, path="/", method="GET"):
    """One request over a socket with exactly this Host and path, non-ASCII sent as raw UTF-8
    (as curl or a script sends a Unicode name; browsers send the A-label)."""
    lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: " + host.encode("utf-8"), b"Connection: close"]
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"\r\n".join(lines) + b"\r\n\r\n")
        response = http.client.HTTPResponse(sock, method=method)
        response.begin()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body


def assert_redirect(result, code, location, *, cache_control=None):
    status, headers, body = result
    assert status == code, (status, headers, body[:200])
    assert headers["location"] == location
    assert headers["location"].isascii()
    assert headers["content-length"] == "0" and body == b""
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == (cache_control or ("public, max-age=3600" if code == 301 else "no-store"))
    assert "set-cookie" not in headers


def assert_bare_404(result):
    status, headers, body = result
    assert status == 404
    assert headers["content-length"] == str(len(body))
    assert headers["x-content-type-options"] == "nosniff"
    assert "set-cookie" not in headers and "location" not in headers
    text = body.decode("utf-8")
    assert "未找到该网站" in text
    for trace in STAFF_TRACES:
        assert trace not in text


# --- real HTTP through the live server ------------------------------------------------------


def test_a_label_and_unicode_host_get_301_with_path_and_query_kept(live, unit_user, conac_user):
    domain = forwarded(unit_user, conac_user, "转发测试", target="https://www.example.gov.cn/portal/")
    assert domain.alabel.startswith("xn--")
    port = live
    expected = "https://www.example.gov.cn/portal/news/1?id=2&x=y"

    # The A-label (what browsers send), then the Unicode name as raw UTF-8 bytes.
    assert_redirect(fetch(port, f"{domain.alabel}.{ZONE}", "/news/1?id=2&x=y"), 301, expected)
    assert_redirect(fetch(port, "转发测试.政务", "/news/1?id=2&x=y"), 301, expected)
    # Case, port and the trailing dot make no difference.
    assert_redirect(fetch(port, f"{domain.alabel.upper()}.XN--ZFR164B.:{port}", "/news/1?id=2&x=y"), 301, expected)
    assert_redirect(fetch(port, f"转发测试.政务.:{port}", "/news/1?id=2&x=y"), 301, expected)
    # The bare name keeps the target's own path.
    assert_redirect(fetch(port, "转发测试.政务", "/"), 301, "https://www.example.gov.cn/portal/")
    # A Chinese path and query (raw UTF-8 bytes on the wire) come out percent-encoded in UTF-8.
    path = "/" + quote("新闻/通知") + "?q=" + quote("值 1")
    assert_redirect(
        fetch(port, "转发测试.政务", path),
        301,
        "https://www.example.gov.cn/portal/%E6%96%B0%E9%97%BB/%E9%80%9A%E7%9F%A5?q=%E5%80%BC%201",
    )
    status, headers, _ = fetch(port, "转发测试.政务", "/a?q=值")  # raw UTF-8, not percent-encoded by the client
    assert status == 301 and headers["location"] == "https://www.example.gov.cn/portal/a?q=%E5%80%BC"


def test_idn_target_is_sent_as_a_labels(live, unit_user, conac_user):
    forwarded(unit_user, conac_user, "中文目标", target="https://例子.中国/首页?来源=转发")
    status, headers, _ = fetch(live, "中文目标.政务", "/a")
    assert status == 301
    assert headers["location"] == (
        "https://xn--fsqu00a.xn--fiqs8s/%E9%A6%96%E9%A1%B5/a?%E6%9D%A5%E6%BA%90=%E8%BD%AC%E5%8F%91"
    )


def test_www_twin_answers_only_once_its_own_record_is_approved(live, unit_user, conac_user, settings):
    settings.FORWARDING_CHECK_INTERVAL = 0  # this test reads the version on every request
    domain = forwarded(unit_user, conac_user, "双胞胎", target="https://twin.example.cn/")
    port = live
    assert_redirect(fetch(port, "双胞胎.政务", "/p"), 301, "https://twin.example.cn/p")
    assert_bare_404(fetch(port, "www.双胞胎.政务", "/p"))  # no www record: no forwarding for www

    at_record = domain.dns_changes.get(host="@")
    twin = dns_services.add_www_twin(at_record, actor=unit_user)
    approve(twin, actor=conac_user)

    assert_redirect(fetch(port, "www.双胞胎.政务", "/p"), 301, "https://twin.example.cn/p")
    assert_redirect(fetch(port, f"WWW.{domain.alabel}.{ZONE}.", "/p"), 301, "https://twin.example.cn/p")


def test_302_and_keep_path_false_sends_the_target_as_it_is(live, unit_user, conac_user):
    forwarded(
        unit_user, conac_user, "临时转发", target="http://temp.example.cn/landing?src=gov", code=302, keep_path=False
    )
    port = live
    for path in ("/", "/deep/path?x=1", "/index.html"):
        assert_redirect(fetch(port, "临时转发.政务", path), 302, "http://temp.example.cn/landing?src=gov")
    status, headers, _ = fetch(port, "临时转发.政务", "/x", method="HEAD")
    assert status == 302 and headers["location"] == "http://temp.example.cn/landing?src=gov"


def test_wildcard_record_answers_names_without_their_own(live, unit_user, conac_user):
    domain = forwarded(unit_user, conac_user, "通配", host="*", target="https://any.example.cn/", keep_path=False)
    add_url(domain, unit_user, conac_user, host="news", target="https://news.example.cn/")
    port = live
    assert_redirect(fetch(port, "abc.通配.政务", "/x"), 301, "https://any.example.cn/")
    assert_redirect(fetch(port, "a.b.通配.政务", "/x"), 301, "https://any.example.cn/")
    assert_redirect(fetch(port, "news.通配.政务", "/x"), 301, "https://news.example.cn/x")  # its own record wins
    assert_bare_404(fetch(port, "通配.政务", "/x"))  # a wildcard does not cover the name itself


def test_unknown_hosts_get_a_bare_404_and_the_staff_host_still_serves_login(live, unit_user, conac_user):
    domain = forwarded(unit_user, conac_user, "已转发", target="https://ok.example.cn/")
    other = make_domain(unit_user.unit, "无记录", status="active")
    dns_services.request_add(other, actor=unit_user, host="@", rtype="A", value="8.8.8.8")  # pending, not URL
    port = live
    for host in (
        "无记录.政务",  # ours, no URL record
        f"nosuch.{ZONE}",
        f"www.{domain.alabel}.{ZONE}",  # no www record
        "evil.example.com",
        "127.0.0.2",
        "[::1]",
        "bad host",
        "",
    ):
        for path in ("/", "/login/", "/admin/"):
            assert_bare_404(fetch(port, host, path))

    status, headers, body = fetch(port, f"localhost:{port}", "/login/")
    assert status == 200
    assert "登录" in body.decode("utf-8")
    status, _, _ = fetch(port, "127.0.0.1", "/login/")
    assert status == 200


# --- in-process: the warm hit touches neither the database nor the cache ----------------


def test_warm_hit_makes_no_database_query(client, unit_user, conac_user, django_assert_num_queries):
    domain = forwarded(unit_user, conac_user, "热命中", target="https://hot.example.cn/")
    a_label_host = f"{domain.alabel}.{ZONE}"

    first = client.get("/a?b=c", HTTP_HOST=a_label_host)  # cold: one query fills the table
    assert first.status_code == 301 and first["Location"] == "https://hot.example.cn/a?b=c"
    with django_assert_num_queries(0):
        warm = client.get("/a?b=c", HTTP_HOST=a_label_host)
        unicode_host = client.get("/a?b=c", HTTP_HOST="热命中.政务:443")
        latin1_bytes = client.get("/a?b=c", HTTP_HOST="热命中.政务".encode().decode("latin-1"))
    for response in (warm, unicode_host, latin1_bytes):
        assert response.status_code == 301
        assert response["Location"] == "https://hot.example.cn/a?b=c"
        assert response["Content-Length"] == "0"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Cache-Control"] == "public, max-age=3600"
        assert not response.cookies

    # An unknown name of ours is remembered too (a negative entry): no query the second time.
    assert client.get("/", HTTP_HOST=f"nothing.{ZONE}").status_code == 404
    with django_assert_num_queries(0):
        assert client.get("/", HTTP_HOST=f"nothing.{ZONE}").status_code == 404
        assert client.get("/", HTTP_HOST="elsewhere.example.com").status_code == 404


def test_shared_cache_down_answers_from_the_database(client, unit_user, conac_user, settings, caplog):
    domain = forwarded(unit_user, conac_user, "缓存故障", target="https://db.example.cn/")
    # Nothing listens on port 9: every read of the version fails at once.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:9/0"}
    }
    forwarding.table.clear()

    response = client.get("/x", HTTP_HOST=f"{domain.alabel}.{ZONE}")
    assert response.status_code == 301 and response["Location"] == "https://db.example.cn/x"
    assert "forwarding version unreadable" in caplog.text
    assert client.get("/", HTTP_HOST=f"nosuch.{ZONE}").status_code == 404


def test_a_version_change_during_a_load_does_not_keep_the_stale_answer(unit_user, conac_user, monkeypatch):
    forwarded(unit_user, conac_user, "并发加载", target="https://race.example.cn/")
    real_load = forwarding.load_entry

    def load_while_another_thread_drops_the_table(host):
        entry = real_load(host)  # read before the change ...
        forwarding.table.clear()  # ... and the version moves on before it is stored
        return entry

    monkeypatch.setattr(forwarding, "load_entry", load_while_another_thread_drops_the_table)
    host = forwarding.normalise_host("并发加载.政务")
    assert forwarding.table.lookup(host).code == 301  # this request still gets its answer
    assert len(forwarding.table) == 0  # but the table does not keep it
    monkeypatch.setattr(forwarding, "load_entry", real_load)
    assert forwarding.table.lookup(host).code == 301
    assert len(forwarding.table) == 1


def test_a_staff_name_written_out_wins_over_a_record(client, unit_user, conac_user, settings):
    domain = forwarded(unit_user, conac_user, "管理站点", target="https://hijack.example.cn/")
    assert client.get("/login/", HTTP_HOST=domain.full_alabel).status_code == 301
    # The staff site moves to that name (written in Unicode in SITE_HOSTS): no record can take it.
    settings.SITE_HOSTS = ["管理站点.政务"]
    settings.ALLOWED_HOSTS = [domain.full_alabel]
    from django.test import Client

    response = Client().get("/login/", HTTP_HOST=domain.full_alabel)
    assert response.status_code == 200 and "登录" in response.content.decode()
    assert Client().get("/login/", HTTP_HOST="localhost").status_code == 404


def test_static_files_are_served_on_the_staff_host_only(db, client):
    # (In-process: the live server's own static handler sits in front of every middleware.)
    assert client.get("/static/css/conac.css", HTTP_HOST="localhost").status_code == 200
    response = client.get("/static/css/conac.css", HTTP_HOST=f"nosuch.{ZONE}")
    assert response.status_code == 404 and response.content == forwarding.NOT_FOUND_BODY


# --- the domain leaves service --------------------------------------------------------------


def test_expired_beyond_grace_is_404_within_grace_still_forwards(live, unit_user, conac_user, settings):
    settings.FORWARDING_CHECK_INTERVAL = 0
    today = timezone.localdate()
    grace = settings.DNS_EXPIRY_GRACE_DAYS
    within = forwarded(unit_user, conac_user, "宽限期内", target="https://within.example.cn/")
    beyond = forwarded(unit_user, conac_user, "宽限期外", target="https://beyond.example.cn/")
    port = live
    assert_redirect(fetch(port, "宽限期外.政务"), 301, "https://beyond.example.cn/")  # warm the table

    Domain.objects.filter(pk=within.pk).update(expires_on=today - datetime.timedelta(days=grace))
    Domain.objects.filter(pk=beyond.pk).update(expires_on=today - datetime.timedelta(days=grace + 1))
    assert jobs.expire_domains(today) == 2
    dns_services.refresh_after_daily_jobs()  # what the daily jobs do after expiry

    assert_redirect(fetch(port, "宽限期内.政务"), 301, "https://within.example.cn/")
    assert_bare_404(fetch(port, "宽限期外.政务"))
    assert_bare_404(fetch(port, f"{beyond.alabel}.{ZONE}", "/x"))


def test_deleted_domain_is_404_after_deletion(live, unit_user, conac_user, office_user, settings):
    settings.FORWARDING_CHECK_INTERVAL = 0
    domain = forwarded(unit_user, conac_user, "将删除", target="https://gone.example.cn/")
    port = live
    assert_redirect(fetch(port, "将删除.政务", "/x"), 301, "https://gone.example.cn/x")  # warm

    delete_domain(domain, reason="单位撤销", actor=office_user)

    assert_bare_404(fetch(port, "将删除.政务", "/x"))
    assert_bare_404(fetch(port, f"{domain.alabel}.{ZONE}", "/"))


# --- a second process sees an approved change within a second -------------------------------


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url():
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{credentials}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def _redis_url():
    broker = os.environ.get("CELERY_BROKER_URL", "")
    base = urlsplit(broker).netloc if broker.startswith("redis://") else "127.0.0.1:6379"
    return f"redis://{base}/{REDIS_DB}"


def _wait_until_serving(process, port, host, log_path, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail("gunicorn exited:\n" + log_path.read_text(errors="replace")[-3000:])
        try:
            return fetch(port, host, "/warm")
        except OSError:
            time.sleep(0.05)
    pytest.fail("gunicorn did not start:\n" + log_path.read_text(errors="replace")[-3000:])


def test_a_second_process_sees_an_approved_change_within_a_second(
    persona_regions, unit_user, conac_user, settings, tmp_path
):
    redis_url = _redis_url()
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}}
    from django.core.cache import cache

    cache.delete_many([forwarding.VERSION_KEY, "dns:publish-scheduled"])
    domain = forwarded(unit_user, conac_user, "两个进程", target="https://old.example.cn/")
    record = domain.dns_records.get(host="@")

    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "conac.settings",
        "DATABASE_URL": _database_url(),
        "CACHE_URL": redis_url,
        "DEBUG": "False",
        "SECRET_KEY": "forwarding-test-" + os.urandom(16).hex(),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "False",
        "FORWARDING_CHECK_INTERVAL": "1.0",
        "CELERY_BROKER_URL": "",
        "DNS_ZONE_DIR": str(tmp_path / "zones"),
        "LOG_LEVEL": "ERROR",
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [str(gunicorn), "conac.wsgi:application", "-b", f"127.0.0.1:{port}", "-w", "1"]
    command += ["--no-control-socket", "--graceful-timeout", "2", "--log-level", "warning"]
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(  # noqa: S603 - fixed command line
            command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        # Warm the other process: it now holds the old target in its table.
        assert_redirect(
            _wait_until_serving(process, port, "两个进程.政务", log_path), 301, "https://old.example.cn/warm"
        )
        assert_redirect(fetch(port, "两个进程.政务", "/p"), 301, "https://old.example.cn/p")
        assert_bare_404(fetch(port, "www.两个进程.政务", "/p"))

        change = dns_services.request_modify(
            record, actor=unit_user, host="@", rtype="URL", value="https://new.example.cn/", redirect_code=302
        )
        # Pending: the old target stays in service.
        assert_redirect(fetch(port, "两个进程.政务", "/p"), 301, "https://old.example.cn/p")
        twin = dns_services.add_www_twin(change, actor=unit_user)

        approve(change, actor=conac_user)
        approve(twin, actor=conac_user)
        approved_at = time.monotonic()
        seen = None
        while time.monotonic() - approved_at < 1.5:
            status, headers, _ = fetch(port, "两个进程.政务", "/p")
            if status == 302:
                seen = time.monotonic() - approved_at
                break
            assert status == 301 and headers["location"] == "https://old.example.cn/p"
            time.sleep(0.02)
        assert seen is not None, "the other process still answered the old target 1.5 s after approval"
        print(f"the other process answered the new target {seen:.2f} s after the approval")
        assert_redirect(fetch(port, "两个进程.政务", "/p"), 302, "https://new.example.cn/")
        assert_redirect(fetch(port, "www.两个进程.政务", "/p"), 302, "https://new.example.cn/")
        assert process.poll() is None
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        cache.delete_many([forwarding.VERSION_KEY, "dns:publish-scheduled"])
