"""Benchmark: the badge's public hot path against static files of the same size, as ratios (loopback).

    createdb -h 127.0.0.1 -U postgres conac_bench_badges
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/conac_bench_badges
    python manage.py migrate && python manage.py bench_badges

Method (as ``bench_forwarding``; /work/shared/RECIPES.md, "Throughput on loopback, as a ratio"):
one gunicorn (4 ``sync`` workers, ``DEBUG=False``, the manifest static storage) on 127.0.0.1
serves (a) a badge's data script and (b) its 标识证书 page on the badge host, both answered
from process memory before the session middleware, and two WhiteNoise static files whose
responses are as long as (a)'s and (b)'s on the wire. ``wrk -t2 -c32 -d10s --latency`` runs
against each, interleaved, for three rounds; the medians of req/s and p99 are compared
(goal ≥ 1.2×). Then nginx, with deploy/nginx.conf (paths and upstream substituted), serves
(c) the badge's data file that ``write_badge_files`` wrote and (d) a plain static file of the
same size (goal ≥ 0.5×; wrk itself is the bottleneck against nginx on two cores).

Runs only on a database whose name contains “bench”: it adds one unit, one domain, one
application and its badge (removed with ``--cleanup``). Everything it starts is stopped
when it ends; the whole run takes about (4 + 2) × rounds × duration seconds plus start-up.
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
from django.db import transaction
from django.utils import timezone

from badges.hotpath import paths
from badges.models import ApplicationKind, ApplicationStatus, Badge, BadgeKind, MountMethod, WebsiteApplication
from badges.services import badge_code
from registry.management.commands.bench_forwarding import (
    SITE_HOST,
    Gunicorn,
    WrkRunner,
    add_wrk_arguments,
    bench_domain_fields,
    bench_unit,
    free_port,
    http_get,
    require_bench_database,
    require_cache,
    require_wrk,
)
from registry.models import Domain, Unit
from registry.organisations.regions import load_regions

BENCH_UNIT = "基准测试标识单位"
BENCH_LABEL = "标识基准"
BADGE_HOST = "bszs.bench.test"
SCRIPT_REFERENCE = "bench/badge-script-reference.txt"
CERTIFICATE_REFERENCE = "bench/badge-certificate-reference.txt"
NGINX_REFERENCE = "bench/badge-file-reference.js"
APP_GOAL = 1.2
NGINX_GOAL = 0.5


def fetch(port, host, path):
    """(status, headers, body) of one request on loopback."""
    request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode("ascii")
    chunks = []
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


class BadgeGunicorn(Gunicorn):
    """bench_forwarding's gunicorn, with the badge host, the badge folder and collected static files."""

    def __init__(self, tmp, workers, cache_url, stdout):
        super().__init__(tmp, workers, cache_url, stdout)
        self.badge_dir = tmp / "badges-public"
        self.references = {}

    def env(self):
        return {
            **super().env(),
            "BADGE_BASE_URL": f"http://{BADGE_HOST}",
            "BADGE_PUBLIC_DIR": str(self.badge_dir),
            "STATICFILES_BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage",
        }

    def manage(self, *args):
        done = subprocess.run(  # noqa: S603  # nosec B603: fixed argv, no shell
            [sys.executable, "manage.py", *args],
            cwd=settings.BASE_DIR,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if done.returncode != 0:
            raise CommandError(f"manage.py {' '.join(args)} 失败：\n{done.stderr[-3000:]}")
        return done.stdout

    def start(self, reference_size):
        for name, size in self.references.items():
            path = self.static_root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"x" * size)
        super().start(reference_size)


class Nginx:
    """nginx on 127.0.0.1 with deploy/nginx.conf, its paths pointed at the bench's folders."""

    def __init__(self, tmp, badge_dir, static_parent, upstream_port):
        self.tmp = tmp
        self.port = free_port()
        self.process = None
        deploy = Path(settings.BASE_DIR) / "deploy"
        site = (deploy / "nginx.conf").read_text(encoding="utf-8")
        replacements = {
            "root /srv/badges-public;": f"root {badge_dir};",
            "root /srv;": f"root {static_parent};",
            "server web:8000;": f"server 127.0.0.1:{upstream_port};",
            "listen 80 default_server;": f"listen 127.0.0.1:{self.port} default_server;",
            "/etc/nginx/conf.d/conac-proxy.inc": str(deploy / "conac-proxy.inc"),
        }
        for old, new in replacements.items():
            if old not in site:
                raise CommandError(f"deploy/nginx.conf 中没有“{old}”：请同时更新 bench_badges。")
            site = site.replace(old, new)
        (tmp / "site.conf").write_text(site, encoding="utf-8")
        temp = tmp / "nginx-temp"
        temp.mkdir()
        (tmp / "nginx.conf").write_text(
            f"""daemon off;
worker_processes 2;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    client_body_temp_path {temp}/client;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {tmp}/site.conf;
}}
""",
            encoding="utf-8",
        )

    def start(self, nginx):
        check = subprocess.run(  # noqa: S603  # nosec B603: fixed argv, no shell
            [nginx, "-t", "-q", "-c", str(self.tmp / "nginx.conf")], capture_output=True, text=True, check=False
        )
        if check.returncode != 0:
            raise CommandError(f"nginx -t 失败：{check.stderr}")
        self.process = subprocess.Popen(  # noqa: S603  # nosec B603: fixed argv, no shell
            [nginx, "-c", str(self.tmp / "nginx.conf")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                http_get(self.port, "localhost", "/static/")
                return
            except OSError:
                time.sleep(0.1)
        raise CommandError("nginx未能启动：" + (self.tmp / "nginx-error.log").read_text(errors="replace")[-2000:])

    def stop(self):
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGQUIT)  # graceful: the master stops its workers
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Command(BaseCommand):
    help = "基准测试：标识脚本与标识证书页（首个中间件、进程内存）对同样大小的WhiteNoise静态文件，nginx提供的标识文件对nginx静态文件"

    def add_arguments(self, parser):
        add_wrk_arguments(parser, cache_help="gunicorn使用的共享缓存（标识表版本号），与生产相同用Redis")
        parser.add_argument("--skip-nginx", action="store_true", help="不测nginx部分")
        parser.add_argument("--cleanup", action="store_true", help="删除基准测试数据后退出")
        parser.add_argument(
            "--yes-i-know", action="store_true", help="数据库名称不含 bench 时也运行（会写入一个单位、域名和标识）"
        )

    def handle(self, *args, **options):
        require_bench_database(options)
        if options["cleanup"]:
            self.cleanup()
            return
        wrk = require_wrk()
        nginx = None if options["skip_nginx"] else shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
        if not options["skip_nginx"] and nginx is None:
            raise CommandError(
                "没有找到nginx（Debian：apt-get install --no-install-recommends nginx），或加 --skip-nginx。"
            )
        if not 1 <= options["rounds"] <= 10 or not 1 <= options["duration"] <= 60:
            raise CommandError("--rounds 1–10，--duration 1–60 秒。")
        require_cache(options["cache_url"])

        badge = self.seed()
        script_path = paths.script_path(badge.code)
        certificate_path = paths.certificate_path(badge.certificate_id)
        run = WrkRunner(wrk, options["threads"], options["connections"])
        results = {}
        with tempfile.TemporaryDirectory(prefix="bench-badges-") as tmp_name:
            tmp = Path(tmp_name)
            os.chmod(tmp, 0o755)  # noqa: S103  # nosec B103: nginx's workers run as another user
            server = BadgeGunicorn(tmp, options["workers"], options["cache_url"], self.stdout)
            nginx_server = None
            try:
                self.stdout.write("collectstatic（DEBUG=False，带哈希的文件名）…")
                server.manage("collectstatic", "--noinput", "-v0")
                server.manage("write_badge_files")
                server.references = {SCRIPT_REFERENCE: 0, CERTIFICATE_REFERENCE: 0}
                server.start(reference_size=0)
                sizes = self.size_references(server, script_path, certificate_path)
                server.references = {SCRIPT_REFERENCE: sizes["a"], CERTIFICATE_REFERENCE: sizes["b"]}
                server.restart(reference_size=0)
                static = "/" + settings.STATIC_URL.strip("/") + "/"
                cases = {
                    "a": ("标识脚本", script_path, BADGE_HOST),
                    "r1": ("静态文件（同(a)大小）", static + SCRIPT_REFERENCE, SITE_HOST),
                    "b": ("标识证书页", certificate_path, BADGE_HOST),
                    "r2": ("静态文件（同(b)大小）", static + CERTIFICATE_REFERENCE, SITE_HOST),
                }
                self.describe(server, cases, options)
                results.update(self.measure(run, server.port, cases, options, [("a", "r1"), ("b", "r2")]))
                server_port = server.port

                if nginx is not None:
                    badge_file = server.badge_dir / script_path.lstrip("/")
                    reference = server.static_root / NGINX_REFERENCE
                    reference.parent.mkdir(parents=True, exist_ok=True)
                    reference.write_bytes(b"x" * badge_file.stat().st_size)
                    nginx_server = Nginx(tmp, server.badge_dir, server.static_root.parent, server_port)
                    nginx_server.start(nginx)
                    self.check_nginx(nginx_server.port, script_path, badge_file)
                    nginx_cases = {
                        "c": ("nginx：标识数据文件", script_path, BADGE_HOST),
                        "d": ("nginx：静态文件（同样大小）", static + NGINX_REFERENCE, BADGE_HOST),
                    }
                    self.stdout.write(
                        f"nginx 127.0.0.1:{nginx_server.port}（deploy/nginx.conf）：(c) {script_path}（文件 "
                        f"{badge_file.stat().st_size} 字节） (d) {static + NGINX_REFERENCE}"
                    )
                    results.update(self.measure(run, nginx_server.port, nginx_cases, options, [("c", "d")]))
            finally:
                if nginx_server is not None:
                    nginx_server.stop()
                server.stop()
        self.report(results)

    # --- steps ------------------------------------------------------------------------------

    def size_references(self, server, script_path, certificate_path):
        """File sizes that make each reference's whole response as long as its candidate's."""
        static = "/" + settings.STATIC_URL.strip("/") + "/"
        sizes = {}
        for key, path, reference in (
            ("a", script_path, SCRIPT_REFERENCE),
            ("b", certificate_path, CERTIFICATE_REFERENCE),
        ):
            status, headers, candidate = http_get(server.port, BADGE_HOST, path)
            if status != 200:
                raise CommandError(f"{path} 响应不对：{status} {headers}")
            status, _, empty = http_get(server.port, SITE_HOST, static + reference)
            if status != 200:
                raise CommandError(f"静态文件 {reference} 响应不对：{status}")
            sizes[key] = max(0, candidate - empty)
        status, headers, body = fetch(server.port, BADGE_HOST, script_path)
        if (
            "javascript" not in headers.get("content-type", "")
            or headers.get("cross-origin-resource-policy") != "cross-origin"
        ):
            raise CommandError(f"标识脚本的响应头不对：{headers}")
        # The shared logic file it names: hashed, served on the badge host, cached for good.
        logic = re.search(rb'"logic":"http://[^/"]+(/[^"]+)"', body)
        status, headers, _ = fetch(server.port, BADGE_HOST, logic.group(1).decode() if logic else "/")
        if status != 200 or "immutable" not in headers.get("cache-control", ""):
            raise CommandError(f"共用逻辑文件 {logic and logic.group(1)} 的响应不对：{status} {headers}")
        return sizes

    def describe(self, server, cases, options):
        self.stdout.write(f"gunicorn {options['workers']} sync workers，DEBUG=False，127.0.0.1:{server.port}")
        for key, (label, path, host) in cases.items():
            status, _, size = http_get(server.port, host, path)
            self.stdout.write(f"({key}) {label}：Host {host} GET {path} → {status}，响应 {size} 字节")

    def check_nginx(self, port, script_path, badge_file):
        status, headers, _ = http_get(port, BADGE_HOST, script_path)
        if status != 200 or headers.get("cross-origin-resource-policy") != "cross-origin":
            raise CommandError(f"nginx 没有按 deploy/nginx.conf 提供标识文件：{status} {headers}")
        if int(headers.get("content-length", -1)) != badge_file.stat().st_size:
            raise CommandError("nginx 提供的不是写出的标识文件。")
        status, headers, _ = http_get(port, BADGE_HOST, paths.script_path("CA110010008999999990001"))
        if status != 200 or "javascript" not in headers.get("content-type", ""):
            raise CommandError(f"没有文件的代码应由应用回答（try_files @web）：{status} {headers}")

    def measure(self, run, port, cases, options, pairs):
        # Warm every worker (the first hit of a badge reads the database once per process).
        for _, path, host in cases.values():
            run(f"http://127.0.0.1:{port}{path}", host, min(2, options["duration"]))
        results = {key: [] for key in cases}
        self.stdout.write(f"{'轮次':<6}{'用例':<6}{'req/s':>12}{'p99(ms)':>10}{'非2xx/3xx':>10}{'错误':>8}")
        order = [key for pair in pairs for key in pair]
        for index in range(options["rounds"]):
            for key in order if index % 2 == 0 else list(reversed(order)):
                _, path, host = cases[key]
                result = run(f"http://127.0.0.1:{port}{path}", host, options["duration"])
                results[key].append(result)
                self.stdout.write(
                    f"{index + 1:<6}{key:<6}{result['rps']:>12.0f}{result['p99_ms']:>10.2f}"
                    f"{result['non_2xx_3xx']:>10}{result['errors']:>8}"
                )
        return {key: (cases[key][0], rows) for key, rows in results.items()}

    def report(self, results):
        def median(key, field):
            return statistics.median(r[field] for r in results[key][1])

        self.stdout.write("中位数：")
        for key, (label, _) in results.items():
            self.stdout.write(f"  ({key}) {label}：{median(key, 'rps'):,.0f} req/s，p99 {median(key, 'p99_ms'):.2f} ms")
        for candidate, reference, goal in (("a", "r1", APP_GOAL), ("b", "r2", APP_GOAL), ("c", "d", NGINX_GOAL)):
            if candidate not in results:
                continue
            ratio = median(candidate, "rps") / median(reference, "rps")
            rounds = [a["rps"] / b["rps"] for a, b in zip(results[candidate][1], results[reference][1], strict=True)]
            self.stdout.write(
                f"比值 ({candidate})/({reference}) = {ratio:.2f}×（各轮：{'、'.join(f'{r:.2f}' for r in rounds)}；"
                f"目标 ≥ {goal}×）：{'达到' if ratio >= goal else '未达到'}"
            )
        bad = [r for _, rows in results.values() for r in rows if r["non_2xx_3xx"] or r["errors"]]
        if bad:
            self.stdout.write(self.style.WARNING(f"有 {len(bad)} 次运行出现非2xx/3xx响应或socket错误，见上表。"))

    # --- data ---------------------------------------------------------------------------------

    def seed(self):
        """One unit, its 注册成功 domain, an issued application and its badge; idempotent."""
        load_regions()
        today = timezone.localdate()
        now = timezone.now()
        with transaction.atomic():
            unit = bench_unit(
                BENCH_UNIT,
                "89999998",
                address="北京市海淀区基准路2号",
                mobile="+8613800138001",
                email="bench-badge@example.cn",
            )
            badge = Badge.objects.filter(unit=unit).first()
            if badge is not None:
                return badge
            domain, _ = Domain.objects.get_or_create(**bench_domain_fields(unit, BENCH_LABEL, today, now))
            application = WebsiteApplication.objects.create(
                unit=unit,
                office_id=unit.office_id,
                kind=ApplicationKind.OPENING,
                site_name="基准测试门户网站",
                domain=domain,
                english_domain="bench.example.gov.cn",
                mount_method=MountMethod.SELF_HOSTED,
                server_ip="202.96.0.10",
                home_url=f"http://{domain.full_name}/",
                description="基准测试。",
                functions="负责基准测试的有关工作。",
                contact_name="乙",
                contact_mobile="+8613800138001",
                contact_email="bench-badge@example.cn",
                status=ApplicationStatus.ISSUED,
                submitted_at=now,
            )
            return Badge.objects.create(
                code=badge_code(unit, 1),
                unit=unit,
                office_id=unit.office_id,
                application=application,
                kind=BadgeKind.RED,
                site_name=application.site_name,
                domain=domain,
                english_domain=application.english_domain,
                home_url=application.home_url,
                mount_method=MountMethod.SELF_HOSTED,
                site_sequence=1,
                issued_at=now,
                deadline=today + datetime.timedelta(days=7),
            )

    def cleanup(self):
        with transaction.atomic():
            badges, _ = Badge.objects.filter(unit__name=BENCH_UNIT).delete()
            WebsiteApplication.objects.filter(unit__name=BENCH_UNIT).delete()
            Domain.objects.filter(unit__name=BENCH_UNIT).delete()
            Unit.objects.filter(name=BENCH_UNIT).delete()
        self.stdout.write(f"已删除基准测试数据（标识 {badges} 个）")
