"""Benchmark: RDAP ``domain/<name>`` throughput, warm and cold, against a WhiteNoise static file (loopback).

    createdb -h 127.0.0.1 -U postgres conac_rdapbench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/conac_rdapbench
    python manage.py migrate && python manage.py bench_rdap --domains 1000000

Data: ``bench_domains``' own generator (one ``INSERT … SELECT generate_series``) fills the
database up to ``--domains`` names ``基准1.政务 … 基准N.政务`` of a few hundred units (kept for
the next run; ``bench_domains --cleanup`` removes them).

Method (as ``bench_forwarding`` and ``bench_badges``; /work/shared/RECIPES.md, "Throughput on
loopback, as a ratio"): one gunicorn (``sync`` workers, ``DEBUG=False``, persistent database
connections as in production, Redis as the shared cache and rate-limit counter) on 127.0.0.1
serves (a) one name again and again, answered from process memory (warm); (c) a name drawn at
random from all N on every request (a wrk Lua script), so nearly every request misses the cache,
reads the database (three queries) and counts against the rate limit (cold); and (r) a WhiteNoise
static file whose response is as long as (a)'s. ``wrk -t2 -c32 -d10s --latency`` runs each,
interleaved, for three rounds; medians of req/s and p99 are compared (goal (a)/(r) ≥ 0.8).

Runs only on a database whose name contains “bench” (or with ``--yes-i-know``). Everything it
starts is stopped when it ends.
"""

import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from registry.management.commands.bench_domains import BENCH_PREFIX
from registry.management.commands.bench_domains import Command as DomainGenerator
from registry.management.commands.bench_forwarding import (
    SITE_HOST,
    Gunicorn,
    WrkRunner,
    add_wrk_arguments,
    http_get,
    require_bench_database,
    require_cache,
    require_wrk,
)
from registry.models import Domain
from registry.organisations.regions import load_regions

REFERENCE = "bench/rdap-reference.txt"
GOAL = 0.8
# What bench_domains writes: 基准<g>.政务 for g = 1 … N.
LABEL_PREFIX = "基准"
SUFFIX = ".政务"

COLD_SCRIPT = """
-- Every request asks for a name drawn at random from all {count} (each thread seeded apart).
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
function init(args)
  math.randomseed(os.time() * 1000 + id)
end
function request()
  return wrk.format("GET", "{prefix}" .. math.random(1, {count}) .. "{suffix}")
end
"""


def domain_path(g):
    return "/rdap/domain/" + quote(f"{LABEL_PREFIX}{g}{SUFFIX}")


class RdapGunicorn(Gunicorn):
    """bench_forwarding's gunicorn, with persistent connections and no limit in the way of the load."""

    def env(self):
        return {
            **super().env(),
            "CONN_MAX_AGE": "600",
            "RDAP_RATE_LIMIT": "1000000000",
            "RDAP_BASE_URL": "https://rdap.bench.test/rdap/",
        }


class Command(BaseCommand):
    help = "基准测试：RDAP domain/<name> 热（进程内存）与冷（每次随机一个域名、查数据库）的吞吐量，对同样大小的WhiteNoise静态文件"

    def add_arguments(self, parser):
        parser.add_argument("--domains", type=int, default=1_000_000, help="数据库中至少要有的基准测试域名数")
        parser.add_argument("--units-per-office", type=int, default=50)
        add_wrk_arguments(parser, cache_help="gunicorn使用的共享缓存（版本号与限频计数），与生产相同用Redis")
        parser.add_argument(
            "--yes-i-know", action="store_true", help="数据库名称不含 bench 时也运行（会写入大量测试数据）"
        )

    def handle(self, *args, **options):
        require_bench_database(options)
        wrk = require_wrk()
        if not 1 <= options["rounds"] <= 10 or not 1 <= options["duration"] <= 60 or options["domains"] < 1:
            raise CommandError("--rounds 1–10，--duration 1–60 秒，--domains 至少 1。")
        require_cache(options["cache_url"])

        count = self.seed(options["domains"], options["units_per_office"])
        self.stdout.write(f"负载（uptime）：{load_average()}")
        warm_path = domain_path(count // 2 + 2)  # an active name (bench_domains: g % 50 ∉ {0, 1})
        results = {}
        with tempfile.TemporaryDirectory(prefix="bench-rdap-") as tmp_name:
            tmp = Path(tmp_name)
            script = tmp / "cold.lua"
            script.write_text(
                COLD_SCRIPT.format(count=count, prefix="/rdap/domain/" + quote(LABEL_PREFIX), suffix=quote(SUFFIX)),
                encoding="utf-8",
            )
            # WrkRunner as the other benchmarks use it, through a launcher that adds the script.
            cold_wrk = tmp / "wrk-cold"
            cold_wrk.write_text(f'#!/bin/sh\nexec "{wrk}" -s "{script}" "$@"\n', encoding="utf-8")
            cold_wrk.chmod(0o755)
            server = RdapGunicorn(tmp, options["workers"], options["cache_url"], self.stdout)
            try:
                server.start(reference_size=0)
                status, headers, answer_bytes = http_get(server.port, SITE_HOST, warm_path)
                if status != 200 or headers.get("content-type") != "application/rdap+json":
                    raise CommandError(f"RDAP 响应不对：{status} {headers}")
                _, _, static_bytes = http_get(server.port, SITE_HOST, server.static_url)
                size = max(0, answer_bytes - static_bytes)
                server.restart(reference_size=size)
                _, _, static_bytes = http_get(server.port, SITE_HOST, server.static_url)
                status, _, cold_bytes = http_get(server.port, SITE_HOST, domain_path(count))
                if status != 200:
                    raise CommandError(f"冷查询 {domain_path(count)} 返回 {status}")
                self.stdout.write(
                    f"gunicorn {options['workers']} sync workers，DEBUG=False，127.0.0.1:{server.port}；"
                    f"共享缓存 {options['cache_url']}\n"
                    f"(a) 热：GET {warm_path}（{LABEL_PREFIX}{count // 2 + 2}{SUFFIX}），响应 {answer_bytes} 字节\n"
                    f"(c) 冷：每个请求随机取 {LABEL_PREFIX}1…{count}{SUFFIX} 之一（约 {cold_bytes} 字节）\n"
                    f"(r) 参照：WhiteNoise {server.static_url}（文件 {size} 字节），响应 {static_bytes} 字节"
                )
                plain = WrkRunner(wrk, options["threads"], options["connections"])
                cold = WrkRunner(str(cold_wrk), options["threads"], options["connections"])
                base = f"http://127.0.0.1:{server.port}"
                cases = {
                    "a": (plain, base + warm_path),
                    "r": (plain, base + server.static_url),
                    "c": (cold, base + "/"),
                }
                # Warm each worker on (a) and the static file; (c) stays cold by construction.
                for key in ("a", "r"):
                    runner, url = cases[key]
                    runner(url, SITE_HOST, min(2, options["duration"]))
                results = {key: [] for key in cases}
                self.stdout.write(f"{'轮次':<6}{'用例':<6}{'req/s':>12}{'p99(ms)':>10}{'非2xx/3xx':>10}{'错误':>8}")
                orders = [("a", "r", "c"), ("c", "r", "a"), ("r", "a", "c")]
                for index in range(options["rounds"]):
                    for key in orders[index % len(orders)]:
                        runner, url = cases[key]
                        result = runner(url, SITE_HOST, options["duration"])
                        results[key].append(result)
                        self.stdout.write(
                            f"{index + 1:<6}{key:<6}{result['rps']:>12.0f}{result['p99_ms']:>10.2f}"
                            f"{result['non_2xx_3xx']:>10}{result['errors']:>8}"
                        )
            finally:
                server.stop()
        self.stdout.write(f"负载（uptime，结束时）：{load_average()}")
        self.report(results, count)

    def seed(self, wanted, units_per_office):
        """At least ``wanted`` names 基准1…N.政务, by bench_domains' generator; returns N."""
        load_regions()
        existing = Domain.objects.filter(unit__name__startswith=BENCH_PREFIX).count()
        if existing < wanted:
            started = time.perf_counter()
            generator = DomainGenerator(stdout=self.stdout)
            generator.seed(wanted - existing, units_per_office, offset=existing)
            self.stdout.write(
                f"生成 {wanted - existing:,} 个域名用时 {time.perf_counter() - started:.1f} 秒（bench_domains 的生成器）"
            )
            existing = wanted
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE registry_domain")
        self.stdout.write(
            f"数据库 {connection.settings_dict['NAME']}：域名总数 {Domain.objects.count():,}（{timezone.now():%Y-%m-%d %H:%M}）"
        )
        return existing

    def report(self, results, count):
        def median(key, field):
            return statistics.median(r[field] for r in results[key])

        a, r, c = (median(k, "rps") for k in ("a", "r", "c"))
        warm_ratio = a / r if r else float("inf")
        cold_ratio = c / r if r else float("inf")
        rounds_a = [x["rps"] / y["rps"] for x, y in zip(results["a"], results["r"], strict=True) if y["rps"]]
        rounds_c = [x["rps"] / y["rps"] for x, y in zip(results["c"], results["r"], strict=True) if y["rps"]]
        self.stdout.write(
            f"中位数（{count:,} 个域名）：(a) 热 {a:,.0f} req/s，p99 {median('a', 'p99_ms'):.2f} ms；"
            f"(c) 冷 {c:,.0f} req/s，p99 {median('c', 'p99_ms'):.2f} ms；"
            f"(r) 静态文件 {r:,.0f} req/s，p99 {median('r', 'p99_ms'):.2f} ms\n"
            f"比值 (a)/(r) = {warm_ratio:.2f}×（各轮：{'、'.join(f'{x:.2f}' for x in rounds_a)}；目标 ≥ {GOAL}×）"
            f"：{'达到' if warm_ratio >= GOAL else '未达到'}\n"
            f"比值 (c)/(r) = {cold_ratio:.2f}×（各轮：{'、'.join(f'{x:.2f}' for x in rounds_c)}）"
        )
        bad = [x for xs in results.values() for x in xs if x["non_2xx_3xx"] or x["errors"]]
        if bad:
            self.stdout.write(self.style.WARNING(f"有 {len(bad)} 次运行出现非2xx/3xx响应或socket错误，见上表。"))


def load_average():
    try:
        with open("/proc/loadavg", encoding="ascii") as handle:
            return " ".join(handle.read().split()[:3])
    except OSError:
        return "?"
