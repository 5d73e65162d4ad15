"""The hot path's promises: no database query on a warm hit, a change seen by every process
within a second, the shared versioned table (conac.hotcache), the host and path rule, and the
front server's files written on every change."""

import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from badges import public, queries, services
from badges.hotpath import entries, files, hosts
from conac import hotcache
from registry.dns.forwarding import normalise_host
from tests.badges.helpers import approve_both, at, awaiting_paper, submit

BADGE_HOST = "bszs.conac.cn"


@pytest.fixture(autouse=True)
def _fresh_public_table(settings, tmp_path):
    settings.BADGE_BASE_URL = "https://bszs.conac.cn"
    settings.BADGE_PUBLIC_DIR = str(tmp_path / "badges-public")
    entries.table.clear()
    yield
    entries.table.clear()


def issue(domain, office_user, conac_user, **overrides):
    if domain.unit.kind == "organ":
        application = awaiting_paper(domain, office_user, conac_user, **overrides)
        return services.confirm_paper(application, actor=office_user, now=at(2025, 9, 26))
    return approve_both(submit(domain, **overrides), office_user, conac_user).badge


@pytest.fixture
def badge(organ_domain, office_user, conac_user):
    return issue(organ_domain, office_user, conac_user)


def paths_of(badge):
    base = "https://bszs.conac.cn"
    return [
        queries.badge_script_url(badge).removeprefix(base),
        queries.badge_image_url(badge).removeprefix(base),
        queries.certificate_url(badge).removeprefix(base),
    ]


# --- Zero queries warm; a change seen within a second ----------------------------------------------


def test_warm_script_image_and_certificate_requests_make_no_database_query(badge, django_assert_num_queries):
    client = Client()
    script, image, certificate = paths_of(badge)
    with django_assert_num_queries(1):  # cold: one query fills the entry
        assert client.get(script, HTTP_HOST=BADGE_HOST).status_code == 200
    with django_assert_num_queries(1):
        assert client.get(certificate, HTTP_HOST=BADGE_HOST).status_code == 200

    with django_assert_num_queries(0):
        for _ in range(3):
            assert client.get(script, HTTP_HOST=BADGE_HOST).status_code == 200
            assert client.get(image, HTTP_HOST=BADGE_HOST).status_code == 200
            assert client.get(certificate, HTTP_HOST=BADGE_HOST).status_code == 200
            referred = client.get(certificate, HTTP_HOST=BADGE_HOST, HTTP_REFERER="https://evil.example.com/")
            assert "不属于它的网站" in referred.content.decode()
        # On the staff site's hosts too, and unknown codes are remembered (a negative entry).
        assert client.get(script, HTTP_HOST="testserver").status_code == 200
    unknown = "/js/11/001/0008/99999999/CA110010008999999990001.js"
    client.get(unknown, HTTP_HOST=BADGE_HOST)
    with django_assert_num_queries(0):
        assert client.get(unknown, HTTP_HOST=BADGE_HOST).content.startswith(b"/* CONAC website badge: no such")


def test_a_revocation_is_seen_at_the_next_version_check(badge, settings):
    settings.BADGE_PUBLIC_CHECK_INTERVAL = 1.0
    client = Client()
    script = paths_of(badge)[0]
    assert b'"revoked":false' in client.get(script, HTTP_HOST=BADGE_HOST).content  # warm

    services.Badge.objects.filter(pk=badge.pk).update(status="revoked", revoked_at=at(2025, 11, 3))
    public.badge_changed()
    changed_at = time.monotonic()
    seen = None
    while time.monotonic() - changed_at < 1.5:
        if b'"revoked":true' in client.get(script, HTTP_HOST=BADGE_HOST).content:
            seen = time.monotonic() - changed_at
            break
        time.sleep(0.05)

    assert seen is not None and seen <= 1.1, seen


def test_every_process_sees_the_change_through_the_shared_version(badge, settings):
    """Two tables stand for two processes: each drops its copy at its next check."""
    settings.BADGE_PUBLIC_CHECK_INTERVAL = 0
    other_process = hotcache.VersionedTable(public.VERSION_KEY, interval=0)
    load = lambda: entries.load(code=badge.code)  # noqa: E731
    assert other_process.get(badge.code, load).revoked is False
    assert entries.by_code(badge.code).revoked is False

    services.Badge.objects.filter(pk=badge.pk).update(status="revoked", revoked_at=at(2025, 11, 3))
    assert other_process.get(badge.code, load).revoked is False  # no bump, no reload
    public.badge_changed()

    assert other_process.get(badge.code, load).revoked is True
    assert entries.by_code(badge.code).revoked is True


def test_an_edit_of_the_units_data_shows_after_the_bump(badge, unit, settings):
    settings.BADGE_PUBLIC_CHECK_INTERVAL = 0
    certificate = paths_of(badge)[2]
    assert "海淀区测试局" in Client().get(certificate, HTTP_HOST=BADGE_HOST).content.decode()

    type(unit).objects.filter(pk=unit.pk).update(name="海淀区新名称局", address="北京市海淀区新地址1号")
    public.badge_changed()

    html = Client().get(certificate, HTTP_HOST=BADGE_HOST).content.decode()
    assert "海淀区新名称局" in html and "北京市海淀区新地址1号" in html


# --- conac.hotcache -----------------------------------------------------------------------------------


def test_the_table_remembers_none_and_reloads_after_a_bump():
    cache.clear()
    table = hotcache.VersionedTable("test:a", interval=0)
    calls = []

    def load():
        calls.append(1)
        return None

    assert table.get("k", load) is None and table.get("k", load) is None
    assert len(calls) == 1 and len(table) == 1
    hotcache.bump("test:a")
    assert table.get("k", load) is None and len(calls) == 2


def test_a_table_can_watch_several_versions():
    cache.clear()
    table = hotcache.VersionedTable("test:a", "test:b", interval=0)
    table.get("k", lambda: 1)
    table.get("k", lambda: 2)
    assert table.get("k", lambda: 3) == 1
    hotcache.bump("test:b")
    assert table.get("k", lambda: 4) == 4
    hotcache.bump("test:a")
    assert table.get("k", lambda: 5) == 5


def test_a_drop_during_a_load_does_not_keep_the_stale_value():
    cache.clear()
    table = hotcache.VersionedTable("test:a", interval=0)

    def load_while_another_thread_drops():
        value = "stale"
        worker = threading.Thread(target=table.clear)
        worker.start()
        worker.join()
        return value

    assert table.get("k", load_while_another_thread_drops) == "stale"  # this caller gets it
    assert len(table) == 0  # the table does not keep it
    assert table.get("k", lambda: "fresh") == "fresh"


def test_the_version_is_read_once_per_interval(monkeypatch):
    cache.clear()
    table = hotcache.VersionedTable("test:a", interval=60)
    table.get("k", lambda: 1)
    hotcache.bump("test:a")
    assert table.get("k", lambda: 2) == 1  # not checked again within the interval


def test_with_the_shared_cache_down_the_database_decides(badge, settings, caplog):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:9/0"}
    }
    settings.BADGE_PUBLIC_CHECK_INTERVAL = 0
    entries.table.clear()

    assert entries.by_code(badge.code).code == badge.code
    assert "public badge version unreadable" in caplog.text
    assert len(entries.table) == 1  # kept until the next check, which drops it again
    entries.by_code(badge.code)
    assert len(entries.table) == 1


def test_the_table_keeps_at_most_max_entries():
    cache.clear()
    table = hotcache.VersionedTable("test:a", interval=60, max_entries=3)
    for key in range(5):
        table.get(key, lambda key=key: key)
    assert len(table) == 3 and table.peek(0) is hotcache.MISSING and table.peek(4) == 4


# --- The host and path rule ---------------------------------------------------------------------------

ORGAN_ALABEL = normalise_host("海淀测试局.政务")
NAMES = (ORGAN_ALABEL, "hd.example.gov.cn")


@pytest.mark.parametrize(
    ("host", "matches"),
    [
        ("hd.example.gov.cn", True),
        ("HD.Example.GOV.cn.", True),  # case and trailing dot
        ("hd.example.gov.cn:8443", True),  # port ignored
        ("www.hd.example.gov.cn", True),
        ("news.hd.example.gov.cn", True),  # a subdomain at a dot boundary
        ("evilhd.example.gov.cn", False),  # never a bare string suffix
        ("hd.example.gov.cn.attacker.test", False),
        ("example.gov.cn", False),
        ("海淀测试局.政务", True),  # Unicode and punycode alike
        ("www.海淀测试局.政务", True),
        (ORGAN_ALABEL, True),
        (f"www.{ORGAN_ALABEL.upper()}", True),
        ("evil海淀测试局.政务", False),
        ("海淀测试局.政务.attacker.test", False),
        ("", False),
        ("not a host", False),
    ],
)
def test_host_matching(host, matches):
    assert hosts.host_matches(host, NAMES) is matches


def test_the_names_are_lower_case_ascii(badge, organ_domain):
    assert hosts.badge_hosts(organ_domain.full_alabel, "WWW.Example.GOV.cn.") == (
        organ_domain.full_alabel,
        "www.example.gov.cn",
    )
    assert hosts.badge_hosts("海淀测试局.政务", "") == (organ_domain.full_alabel,)


@pytest.mark.parametrize(
    ("home_url", "limit"),
    [
        ("", ""),
        ("http://hd.example.gov.cn", ""),
        ("http://hd.example.gov.cn/", ""),
        ("http://hd.example.gov.cn/index.html", ""),
        ("http://hd.example.gov.cn/portal", "/portal"),
        ("http://hd.example.gov.cn/portal/", "/portal"),
        ("http://hd.example.gov.cn/portal/index.jsp", "/portal"),
        ("http://海淀测试局.政务/门户/", "/%E9%97%A8%E6%88%B7"),
    ],
)
def test_a_home_page_path_limits_the_match(home_url, limit):
    assert hosts.path_limit(home_url) == limit


def test_path_matching_is_at_a_slash_boundary():
    assert hosts.path_matches("/portal", "/portal") and hosts.path_matches("/portal/a.html", "/portal")
    assert not hosts.path_matches("/portal-evil/", "/portal") and not hosts.path_matches("/", "/portal")
    assert hosts.path_matches("/anything", "")


# --- The front server's files ---------------------------------------------------------------------------


def file_of(badge):
    return files.file_for(badge.code)


def test_badge_changed_with_the_badge_writes_its_file_as_the_app_answers_it(badge, settings):
    public.badge_changed(badge)

    path = file_of(badge)
    script = queries.badge_script_url(badge).removeprefix("https://bszs.conac.cn")
    assert str(path).endswith(script)  # the URL's path under BADGE_PUBLIC_DIR
    assert path.read_bytes() == Client().get(script, HTTP_HOST=BADGE_HOST).content
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644  # nginx runs as another user


def test_a_revocation_rewrites_the_file_even_when_badge_changed_gets_no_argument(badge, settings):
    public.badge_changed(badge)
    before = file_of(badge).read_bytes()

    services.Badge.objects.filter(pk=badge.pk).update(status="revoked", revoked_at=timezone.now())
    public.badge_changed()  # as revoke_badge calls it, after its commit

    after = file_of(badge).read_bytes()
    assert b'"revoked":false' in before and b'"revoked":true' in after


def test_write_badge_files_rewrites_all_and_leaves_unchanged_files_alone(badge, settings, capsys):
    call_command("write_badge_files")
    assert "写入 1 个，未变 0 个" in capsys.readouterr().out
    path = file_of(badge)
    mtime = path.stat().st_mtime_ns

    call_command("write_badge_files")
    assert "写入 0 个，未变 1 个" in capsys.readouterr().out
    assert path.stat().st_mtime_ns == mtime
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left


def test_an_empty_public_dir_switches_the_files_off(badge, settings, tmp_path):
    settings.BADGE_PUBLIC_DIR = ""
    public.badge_changed(badge)  # nothing written, nothing raised
    assert files.public_dir() is None


def test_a_file_that_cannot_be_written_does_not_break_the_bump(badge, settings, tmp_path, caplog):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    settings.BADGE_PUBLIC_DIR = str(blocker)
    version = cache.get(public.VERSION_KEY)

    public.badge_changed(badge)

    assert cache.get(public.VERSION_KEY) != version
    assert "could not be rewritten" in caplog.text


# --- Two real processes ------------------------------------------------------------------------------------

REDIS_DB = 13


@pytest.fixture(scope="module", autouse=True)
def _regions_back_after_module(django_db_blocker):
    # The transactional test below flushes every table; later tests expect the whole region tree.
    yield
    from django.db import connection

    from registry.organisations.regions import load_regions

    with django_db_blocker.unblock():
        load_regions()
        connection.close()


def _raw_get(port, host, path):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode("ascii"))
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def test_another_process_sees_a_revocation_within_a_second(transactional_db, settings, tmp_path):
    from django.db import connection

    from registry.organisations.regions import load_regions
    from tests import factories
    from tests.badges.helpers import live_domain

    load_regions()
    broker = os.environ.get("CELERY_BROKER_URL", "")
    redis_url = f"redis://{urlsplit(broker).netloc if broker.startswith('redis://') else '127.0.0.1:6379'}/{REDIS_DB}"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}}
    cache.delete(public.VERSION_KEY)
    unit = factories.make_unit(username="two_processes", name="海淀区两进程局", region_code="110108")
    office_user = factories.make_staff("two_processes_office", "110108")
    conac_user = factories.make_staff("two_processes_conac", None, role="conac")
    badge = issue(live_domain(unit, "两进程测试"), office_user, conac_user)
    script = paths_of(badge)[0]

    db = connection.settings_dict
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "conac.settings",
        "DATABASE_URL": f"postgres://{quote(db['USER'] or '', safe='')}@{db.get('HOST') or '127.0.0.1'}:"
        f"{db.get('PORT') or 5432}/{db['NAME']}",
        "CACHE_URL": redis_url,
        "DEBUG": "False",
        "SECRET_KEY": "badge-test-" + os.urandom(16).hex(),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "False",
        "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
        "BADGE_BASE_URL": "https://bszs.conac.cn",
        "BADGE_PUBLIC_DIR": str(tmp_path / "files"),
        "BADGE_PUBLIC_CHECK_INTERVAL": "1.0",
        "CELERY_BROKER_URL": "",
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
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, log_path.read_text(errors="replace")[-3000:]
            try:
                status, body = _raw_get(port, BADGE_HOST, script)  # warm: the other process holds it now
                break
            except OSError:
                assert time.monotonic() < deadline, log_path.read_text(errors="replace")[-3000:]
                time.sleep(0.05)
        assert status == 200 and b'"revoked":false' in body

        services.Badge.objects.filter(pk=badge.pk).update(status="revoked", revoked_at=timezone.now())
        public.badge_changed()
        changed_at = time.monotonic()
        seen = None
        while time.monotonic() - changed_at < 1.5:
            if b'"revoked":true' in _raw_get(port, BADGE_HOST, script)[1]:
                seen = time.monotonic() - changed_at
                break
            time.sleep(0.02)
        assert seen is not None, "the other process still answered the valid badge 1.5 s after the revocation"
        print(f"the other process answered the revocation {seen:.2f} s after it")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        cache.delete(public.VERSION_KEY)
