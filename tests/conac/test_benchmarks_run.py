"""Every benchmark command runs once at a tiny size, so none of them can rot unnoticed.

The benchmarks write their own data with raw SQL, drive pages through the test client and
start real servers (NSD, gunicorn + wrk): a renamed column, a changed page or a new required
field breaks them long before anyone measures again. Each runs here against the test
database (``--yes-i-know`` past their guard against ordinary databases), in seconds.
"""

import glob
import io
import shutil
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from tests.concurrency import _whole_tree_back_after_module  # noqa: F401  (the region tree after a flush)

COVERED = {
    "bench_domains",
    "bench_billing",
    "bench_zones",
    "bench_forwarding",
    "bench_badges",
    "bench_load",
    "bench_rdap",
}


def run(command, *args):
    out = io.StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


def test_every_benchmark_command_is_run_here():
    found = {Path(p).stem for p in glob.glob(str(Path(settings.BASE_DIR) / "*/management/commands/bench_*.py"))}
    assert found and found <= COVERED, f"a benchmark this module does not run: {sorted(found - COVERED)}"


# --- bench_domains ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_bench_domains_runs_and_exports_through_the_job():
    out = run(
        "bench_domains", "--domains", "60", "--units-per-office", "2", "--export-rows", "30", "--repeat", "1",
        "--tracemalloc", "--yes-i-know",
    )  # fmt: skip
    assert "CONAC 域名查询 无条件" in out and "CONAC 待复审域名" in out
    assert "导出Excel 写出器 30 行" in out and "Python 堆峰值" in out
    assert "导出Excel 导出任务" in out and "页面请求" in out


@pytest.mark.django_db
def test_bench_domains_refuses_an_ordinary_database_and_impossible_sizes():
    with pytest.raises(CommandError, match="bench"):
        run("bench_domains", "--domains", "10")
    with pytest.raises(CommandError, match="多于 --domains"):
        run("bench_domains", "--domains", "10", "--export-rows", "20", "--yes-i-know")


@pytest.mark.django_db
def test_bench_domains_fails_with_a_message_when_the_export_is_not_a_job(monkeypatch):
    from registry.domains import views as domain_views

    monkeypatch.setattr(domain_views, "PER_PAGE", 10_000)  # every export answered at once
    with pytest.raises(CommandError, match="没有转到导出任务：返回 200"):
        run(
            "bench_domains", "--domains", "40", "--units-per-office", "2", "--export-rows", "25", "--repeat", "1",
            "--yes-i-know",
        )  # fmt: skip


# --- bench_billing ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_bench_billing_runs():
    out = run("bench_billing", "--domains", "3")
    assert "基准测试：3 个域名" in out and "已回滚" in out
    for step in ("提交续费申请", "确认收费", "认款", "每日任务"):
        assert step in out


# --- bench_zones: publishes, and starts NSD for the approval → answer timing --------------------


@pytest.mark.django_db(transaction=True)  # the approval's publish runs when its transaction commits
def test_bench_zones_runs(tmp_path):
    if connection.vendor != "postgresql":
        pytest.fail("bench_zones needs PostgreSQL (set DATABASE_URL)")
    args = ["--records", "25", "--no-tracemalloc", "--yes-i-know", "--zone-dir", str(tmp_path / "zones")]
    if not shutil.which("nsd") and not Path("/usr/sbin/nsd").exists():
        pytest.fail("NSD is not installed (make test installs the Debian package nsd)")
    out = run("bench_zones", *args)
    assert "有效记录 25 条" in out and "发布 xn--zfr164b：" in out and "nsd-checkzone" in out
    assert "审核通过 → NSD 应答新记录" in out


# --- bench_forwarding: gunicorn + wrk on loopback -------------------------------------------------


def _test_database_url():
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{credentials}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


@pytest.mark.django_db(transaction=True)  # gunicorn reads the seeded domain from its own connection
def test_bench_forwarding_runs(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.fail("bench_forwarding needs PostgreSQL (set DATABASE_URL)")
    if not shutil.which("wrk"):
        pytest.fail("wrk is not installed (make test installs the Debian package wrk)")
    monkeypatch.setenv("DATABASE_URL", _test_database_url())
    out = run(
        "bench_forwarding", "--duration", "1", "--rounds", "1", "--workers", "1", "--connections", "4",
        "--cache-url", "locmemcache://", "--yes-i-know",
    )  # fmt: skip
    assert "→ 301 https://www.example.gov.cn/portal/news/2024/notice.html?id=7" in out
    assert "比值 (a)/(b)" in out


# --- bench_badges: gunicorn (+ nginx with deploy/nginx.conf) + wrk on loopback ---------------------

BENCH_BADGES = Path(settings.BASE_DIR) / "badges" / "management" / "commands" / "bench_badges.py"


@pytest.mark.skipif(not BENCH_BADGES.exists(), reason="this tree has no bench_badges command yet")
@pytest.mark.django_db(transaction=True)  # gunicorn reads the seeded badge from its own connection
def test_bench_badges_runs(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.fail("bench_badges needs PostgreSQL (set DATABASE_URL)")
    if not shutil.which("wrk"):
        pytest.fail("wrk is not installed (make test installs the Debian package wrk)")
    monkeypatch.setenv("DATABASE_URL", _test_database_url())
    args = ["--duration", "1", "--rounds", "1", "--workers", "1", "--connections", "4"]
    args += ["--cache-url", "locmemcache://", "--yes-i-know"]
    if not (shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")):
        args.append("--skip-nginx")
    out = run("bench_badges", *args)
    assert "标识脚本" in out and "标识证书页" in out and "比值 (a)/(r1)" in out


# --- bench_rdap: bench_domains' generator, then gunicorn + wrk (warm, cold with a Lua script) ---------


@pytest.mark.django_db(transaction=True)  # gunicorn reads the generated names from its own connection
def test_bench_rdap_runs(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.fail("bench_rdap needs PostgreSQL (set DATABASE_URL)")
    if not shutil.which("wrk"):
        pytest.fail("wrk is not installed (make test installs the Debian package wrk)")
    monkeypatch.setenv("DATABASE_URL", _test_database_url())
    out = run(
        "bench_rdap", "--domains", "60", "--units-per-office", "1", "--duration", "1", "--rounds", "1",
        "--workers", "1", "--connections", "4", "--cache-url", "locmemcache://", "--yes-i-know",
    )  # fmt: skip
    assert "(a) 热：GET /rdap/domain/" in out and "(c) 冷" in out
    assert "比值 (a)/(r)" in out and "比值 (c)/(r)" in out and "负载（uptime）" in out


@pytest.mark.django_db
def test_bench_forwarding_refuses_an_ordinary_database():
    with pytest.raises(CommandError, match="bench"):
        run("bench_forwarding", "--duration", "1", "--rounds", "1")


# --- bench_load: real staff sessions over HTTP, gunicorn + wrk with a Lua script ------------------


@pytest.mark.django_db(transaction=True)  # gunicorn reads the seeded domains and logs in from its own connection
def test_bench_load_runs(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.fail("bench_load needs PostgreSQL (set DATABASE_URL)")
    if not shutil.which("wrk"):
        pytest.fail("wrk is not installed (make test installs the Debian package wrk)")
    monkeypatch.setenv("DATABASE_URL", _test_database_url())
    out = run(
        "bench_load", "--domains", "300", "--units-per-big-office", "2", "--duration", "1", "--connections", "2",
        "--workers", "1", "--cache-url", "locmemcache://", "--only", "1,3", "--yes-i-know",
    )  # fmt: skip
    assert "生成 300 个域名" in out and "登录 10 个编办会话、6 个CONAC会话" in out
    assert "CONAC 域名查询 无条件" in out and "编办 待审核域名" in out and "WhiteNoise 静态文件（参照）" in out
    assert "| 页面 | req/s | p50 | p99 | ÷ 静态文件 |" in out


@pytest.mark.django_db
def test_bench_load_refuses_an_ordinary_database():
    with pytest.raises(CommandError, match="conac_load"):
        run("bench_load", "--domains", "10")
