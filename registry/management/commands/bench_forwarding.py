"""Benchmark: URL转发 throughput against a WhiteNoise static file, as a ratio (loopback).

    createdb conac_bench_fwd
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/conac_bench_fwd python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/conac_bench_fwd python manage.py bench_forwarding

Method (docs: /work/shared/RECIPES.md, "Throughput on loopback, as a ratio"): one gunicorn
(``sync`` workers, ``DEBUG=False``) on 127.0.0.1 serves both (a) a forwarded host, answered by
the first middleware from process memory, and (b) a WhiteNoise static file whose response is
the same size on the wire. ``wrk -t2 -c32 -d10s --latency`` runs against each, interleaved
(a b, b a, a b …), and the medians of req/s and p99 are compared. Absolute figures move from
run to run on a shared machine; the ratio is what counts (goal ≥ 1.2×).

Runs only on a database whose name contains “bench” (or with ``--yes-i-know``, as the test that
keeps it from rotting does): it adds one unit, one domain and its URL转发 record (removed with
``--cleanup``). Everything it starts is stopped when it ends.
"""

import datetime
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess  # nosec B404: fixed argument lists, no shell
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from registry.dns.models import DnsRecord, RecordType
from registry.models import Domain, DomainStatus, Office, Unit, UnitKind, UnitLevel
from registry.organisations.regions import load_regions
from registry.organisations.validators import credit_code_check_char, org_code_check_char

BENCH_UNIT = "基准测试转发单位"
BENCH_LABEL = "转发基准"
TARGET = "https://www.example.gov.cn/portal/"
PATH = "/news/2024/notice.html?id=7"  # keep_path: the path and query are appended to the target
STATIC_NAME = "bench/forwarding-reference.txt"
SITE_HOST = "127.0.0.1"
GOAL = 1.2


class Command(BaseCommand):
    help = "基准测试：URL转发（首个中间件）与同样大小的WhiteNoise静态文件的吞吐量之比（本机回环，gunicorn + wrk）"

    def add_arguments(self, parser):
        add_wrk_arguments(parser, cache_help="gunicorn使用的共享缓存（转发表版本号），与生产相同用Redis")
        parser.add_argument(
            "--reference-bytes",
            type=int,
            default=None,
            help="参照静态文件的字节数；默认使其整个响应与转发响应一样长（头部已更长时为0字节）",
        )
        parser.add_argument("--cleanup", action="store_true", help="删除基准测试数据后退出")
        parser.add_argument(
            "--yes-i-know", action="store_true", help="数据库名称不含 bench 时也运行（会写入一个单位和一个域名）"
        )

    def handle(self, *args, **options):
        require_bench_database(options)
        if options["cleanup"]:
            self.cleanup()
            return
        wrk = require_wrk()
        if not 1 <= options["rounds"] <= 10 or not 1 <= options["duration"] <= 60:
            raise CommandError("--rounds 1–10，--duration 1–60 秒。")

        require_cache(options["cache_url"])
        domain = self.seed()
        host = domain.full_alabel
        expected = TARGET.rstrip("/") + PATH
        with tempfile.TemporaryDirectory(prefix="bench-fwd-") as tmp:
            server = Gunicorn(Path(tmp), options["workers"], options["cache_url"], self.stdout)
            try:
                chosen = options["reference_bytes"]
                server.start(reference_size=chosen or 0)
                # The reference is sized so that its whole response is as long as the redirect's.
                status, headers, redirect_bytes = http_get(server.port, host, PATH)
                if status != 301 or headers.get("location") != expected:
                    raise CommandError(f"转发响应不对：{status} {headers}")
                status, _, static_bytes = http_get(server.port, SITE_HOST, server.static_url)
                if status != 200:
                    raise CommandError(f"静态文件响应不对：{status}")
                if chosen is None:
                    size = max(0, redirect_bytes - static_bytes)
                    if size:
                        server.restart(reference_size=size)
                        _, _, static_bytes = http_get(server.port, SITE_HOST, server.static_url)
                else:
                    size = chosen
                self.stdout.write(
                    f"gunicorn {options['workers']} sync workers，DEBUG=False，127.0.0.1:{server.port}\n"
                    f"(a) 转发：Host {host}（{domain.full_name}）GET {PATH} → 301 {expected}，响应 {redirect_bytes} 字节\n"
                    f"(b) 参照：WhiteNoise {server.static_url}（文件 {size} 字节），响应 {static_bytes} 字节"
                )
                cases = {
                    "a": (f"http://127.0.0.1:{server.port}{PATH}", host),
                    "b": (f"http://127.0.0.1:{server.port}{server.static_url}", SITE_HOST),
                }
                run = WrkRunner(wrk, options["threads"], options["connections"])
                # Warm every worker (the first hit of a forwarded host reads the database once).
                for url, header_host in cases.values():
                    run(url, header_host, min(2, options["duration"]))
                results = {"a": [], "b": []}
                self.stdout.write(f"{'轮次':<6}{'用例':<6}{'req/s':>12}{'p99(ms)':>10}{'非2xx/3xx':>10}{'错误':>8}")
                for index in range(options["rounds"]):
                    order = ("a", "b") if index % 2 == 0 else ("b", "a")
                    for key in order:
                        url, header_host = cases[key]
                        result = run(url, header_host, options["duration"])
                        results[key].append(result)
                        self.stdout.write(
                            f"{index + 1:<6}{key:<6}{result['rps']:>12.0f}{result['p99_ms']:>10.2f}"
                            f"{result['non_2xx_3xx']:>10}{result['errors']:>8}"
                        )
            finally:
                server.stop()
        self.report(results)

    def report(self, results):
        a_rps = statistics.median(r["rps"] for r in results["a"])
        b_rps = statistics.median(r["rps"] for r in results["b"])
        a_p99 = statistics.median(r["p99_ms"] for r in results["a"])
        b_p99 = statistics.median(r["p99_ms"] for r in results["b"])
        ratio = a_rps / b_rps if b_rps else float("inf")
        per_round = [ra["rps"] / rb["rps"] for ra, rb in zip(results["a"], results["b"], strict=True) if rb["rps"]]
        self.stdout.write(
            f"中位数：(a) 转发 {a_rps:,.0f} req/s，p99 {a_p99:.2f} ms；"
            f"(b) 静态文件 {b_rps:,.0f} req/s，p99 {b_p99:.2f} ms\n"
            f"比值 (a)/(b) = {ratio:.2f}×（中位数之比；各轮：{'、'.join(f'{r:.2f}' for r in per_round)}，"
            f"各轮比值的中位数 {statistics.median(per_round):.2f}×；目标 ≥ {GOAL}×）"
            f"：{'达到' if ratio >= GOAL else '未达到'}"
        )
        bad = [r for rs in results.values() for r in rs if r["non_2xx_3xx"] or r["errors"]]
        if bad:
            self.stdout.write(self.style.WARNING(f"有 {len(bad)} 次运行出现非2xx/3xx响应或socket错误，见上表。"))

    # --- data ----------------------------------------------------------------------

    def seed(self):
        """One unit, one 注册成功 domain, one URL转发 record at @ (301, keep path); idempotent."""
        load_regions()
        today = timezone.localdate()
        with transaction.atomic():
            unit = bench_unit(
                BENCH_UNIT, "89999999", address="基准路1号", mobile="+8613800138000", email="bench@example.cn"
            )
            domain, _ = Domain.objects.update_or_create(**bench_domain_fields(unit, BENCH_LABEL, today, timezone.now()))
            DnsRecord.objects.update_or_create(
                domain=domain,
                host="@",
                rtype=RecordType.URL,
                removed_at=None,
                defaults={"value": TARGET, "ttl": 600, "redirect_code": 301, "keep_path": True},
            )
        return domain

    def cleanup(self):
        with transaction.atomic():
            domains = Domain.objects.filter(unit__name=BENCH_UNIT)
            records, _ = DnsRecord.objects.filter(domain__in=domains).delete()
            count, _ = domains.delete()
            Unit.objects.filter(name=BENCH_UNIT).delete()
        self.stdout.write(f"已删除基准测试数据（域名 {count} 个，解析记录 {records} 条）")


# --- the server and the load generator ---------------------------------------------------


def add_wrk_arguments(parser, *, cache_help):
    """The options every gunicorn + wrk benchmark takes (this one, bench_badges, bench_rdap)."""
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="每次wrk运行的秒数")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync worker数")
    parser.add_argument(
        "--cache-url", default=os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/12"), help=cache_help
    )


def require_bench_database(options):
    """Benchmarks write data: only on a PostgreSQL database named for it, unless --yes-i-know."""
    name = str(connection.settings_dict["NAME"])
    if connection.vendor != "postgresql" or ("bench" not in name and not options["yes_i_know"]):
        raise CommandError(
            f"只在名称含“bench”的PostgreSQL数据库上运行（当前：{connection.vendor} {name}），或加 --yes-i-know。"
        )


def require_wrk():
    """The path of wrk, or a clear error."""
    wrk = shutil.which("wrk")
    if not wrk:
        raise CommandError("没有找到wrk（Debian：apt-get install wrk）。")
    return wrk


def require_cache(cache_url):
    """The shared cache gunicorn will use answers, before anything is started."""
    if cache_url.startswith("redis://"):
        import redis

        try:
            redis.Redis.from_url(cache_url, socket_connect_timeout=2).ping()
        except redis.RedisError as exc:
            raise CommandError(f"连不上 {cache_url}（{exc}）；可用 --cache-url locmemcache:// 。") from None


def bench_domain_fields(unit, label, today, now):
    """The keys and ``defaults`` of a benchmark's live .政务 domain of ``unit``, for get_or_create or
    update_or_create."""
    from registry.domains import names

    checked = names.validate_label(label, suffix=names.ORGAN_SUFFIX)
    return {
        "unit": unit,
        "label": checked.label,
        "suffix": checked.suffix,
        "defaults": {
            "office_id": unit.office_id,
            "alabel": checked.alabel,
            "years": 1,
            "status": DomainStatus.ACTIVE,
            "registered_on": today,
            "expires_on": today + datetime.timedelta(days=365),
            "submitted_at": now,
        },
    }


def bench_unit(name, org_code, *, address, mobile, email):
    """The benchmark's own 党政机关 in 海淀区 (found by name, else created with a valid credit code)."""
    unit = Unit.objects.filter(name=name).first()
    if unit is not None:
        return unit
    office = Office.objects.get(code="110108")
    body = f"11{office.region.code}{org_code}{org_code_check_char(org_code)}"
    return Unit.objects.create(
        name=name,
        kind=UnitKind.ORGAN,
        credit_code=body + credit_code_check_char(body),
        region=office.region,
        level=UnitLevel.COUNTY,
        office=office,
        address=address,
        leader="甲",
        contact="乙",
        contact_mobile=mobile,
        contact_email=email,
        handler="丙",
        handler_id_number="11010519491231002X",
    )


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_get(port, host, path):
    """(status, headers, bytes on the wire) of one request, read to the end (gunicorn sync closes)."""
    request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode("ascii")
    chunks = []
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    raw = b"".join(chunks)
    head = raw.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    status = int(head[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:])}
    return status, headers, len(raw)


class Gunicorn:
    """gunicorn on 127.0.0.1 with DEBUG=False and a STATIC_ROOT of its own (a settings module in ``tmp``)."""

    def __init__(self, tmp, workers, cache_url, stdout):
        self.tmp = tmp
        self.workers = workers
        self.cache_url = cache_url
        self.stdout = stdout
        self.process = None
        self.port = free_port()
        self.static_root = tmp / "static"
        self.static_url = "/" + settings.STATIC_URL.strip("/") + "/" + STATIC_NAME
        (tmp / "bench_forwarding_settings.py").write_text(
            f"from conac.settings import *  # noqa: F401,F403\nSTATIC_ROOT = {str(self.static_root)!r}\n",
            encoding="utf-8",
        )
        self.log_path = tmp / "gunicorn.log"

    def env(self):
        return {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(self.tmp), str(settings.BASE_DIR)]),
            "DJANGO_SETTINGS_MODULE": "bench_forwarding_settings",
            "DATABASE_URL": os.environ.get("DATABASE_URL", ""),
            "CACHE_URL": self.cache_url,
            "DEBUG": "False",
            "SECRET_KEY": "bench-" + os.urandom(24).hex(),
            "ALLOWED_HOSTS": SITE_HOST,
            "SITE_HOSTS": SITE_HOST,
            "SECURE_SSL_REDIRECT": "False",  # plain HTTP on loopback
            "CONN_MAX_AGE": "0",
            "LOG_LEVEL": "ERROR",
        }

    def start(self, reference_size):
        path = self.static_root / STATIC_NAME
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * reference_size)  # WhiteNoise indexes STATIC_ROOT as each worker starts
        gunicorn = Path(sys.executable).with_name("gunicorn")
        command = [
            str(gunicorn),
            "conac.wsgi:application",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "--worker-class",
            "sync",
            "--no-control-socket",
            "--graceful-timeout",
            "3",
            "--log-level",
            "warning",
        ]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(  # noqa: S603  # nosec B603: fixed argv, no shell
                command, cwd=settings.BASE_DIR, env=self.env(), stdout=log, stderr=subprocess.STDOUT
            )
        self.wait_ready()

    def wait_ready(self, timeout=60):
        """Ready when every worker has loaded the app (each answers a first request)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise CommandError("gunicorn已退出：\n" + self.log_path.read_text(errors="replace")[-3000:])
            try:
                if http_get(self.port, SITE_HOST, self.static_url)[0] == 200:
                    time.sleep(1.0)  # the other workers finish importing
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise CommandError("gunicorn未能在时限内启动：\n" + self.log_path.read_text(errors="replace")[-3000:])

    def restart(self, reference_size):
        self.stop()
        self.port = free_port()
        self.start(reference_size)

    def stop(self):
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)  # the master stops its workers
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class WrkRunner:
    LATENCY_99 = re.compile(r"^\s*99%\s+([\d.]+)(us|ms|s)\s*$", re.M)
    RPS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.M)
    NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
    ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
    UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}

    def __init__(self, wrk, threads, connections):
        self.wrk = wrk
        self.threads = threads
        self.connections = connections

    def __call__(self, url, host, duration):
        command = [self.wrk, f"-t{self.threads}", f"-c{self.connections}", f"-d{duration}s", "--latency"]
        command += ["-H", f"Host: {host}", url]
        done = subprocess.run(  # noqa: S603  # nosec B603: fixed argv, no shell
            command, capture_output=True, text=True, timeout=duration + 30, check=False
        )
        out = done.stdout
        rps, p99 = self.RPS.search(out), self.LATENCY_99.search(out)
        if done.returncode != 0 or not rps or not p99:
            raise CommandError(f"wrk失败：{done.stderr or out}")
        errors = self.ERRORS.search(out)
        non_2xx = self.NON_2XX.search(out)
        return {
            "rps": float(rps.group(1)),
            "p99_ms": float(p99.group(1)) * self.UNIT_MS[p99.group(2)],
            "non_2xx_3xx": int(non_2xx.group(1)) if non_2xx else 0,
            "errors": sum(int(n) for n in errors.groups()) if errors else 0,
        }
