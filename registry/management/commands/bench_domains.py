"""Benchmark: seed N domains, time the domain pages through the test client, and 导出Excel.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/conac_bench \
        python manage.py bench_domains --domains 1000000 --export-rows 100000
    ... bench_domains --domains 1000000 --export-rows 1000000

导出Excel is measured twice: the writer alone on exactly ``--export-rows`` rows (the first by
到期时间, read from the database in chunks as every export does), and the whole path a user
takes: 域名查询 → 导出Excel (a 302 to the export job) → the job's task → the job page → the
download. Each prints seconds, file size, and memory (resident set growth; the Python heap's
peak under tracemalloc with ``--tracemalloc``).

Run it on a database of its own (its name containing “bench”, or ``--yes-i-know``): it adds N
domains (and a few hundred units) marked “基准测试”, and removes them with ``--cleanup``.
A check that fails stops it with a message (CommandError), never a traceback.
"""

import datetime
import statistics
import threading
import time
import tracemalloc
import uuid

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conac import exports
from conac.models import ExportJob, ExportStatus
from registry.domains import freshness
from registry.domains import queries as domain_queries
from registry.models import Domain, DomainStatus, Office, Region, Unit, UnitKind, UnitLevel, User
from registry.organisations.regions import load_regions
from registry.organisations.validators import credit_code_check_char, org_code_check_char

BENCH_PREFIX = "基准测试单位"
BENCH_OFFICE_CODES = ["110108", "110105", "110000", "310000", "310104", "440300", "440305", "000000"]


class Command(BaseCommand):
    help = "基准测试：生成N个域名并测量域名查询、待审核队列和导出Excel的耗时"

    def add_arguments(self, parser):
        parser.add_argument("--domains", type=int, default=1_000_000)
        parser.add_argument("--units-per-office", type=int, default=50)
        parser.add_argument("--repeat", type=int, default=5)
        parser.add_argument("--export-rows", type=int, default=100_000, help="导出Excel 的行数（写出器恰好这么多行）")
        parser.add_argument("--tracemalloc", action="store_true", help="另用 tracemalloc 测量导出时 Python 堆的峰值")
        parser.add_argument("--yes-i-know", action="store_true", help="数据库名称不含 bench 时也运行（会写入测试数据）")
        parser.add_argument("--cleanup", action="store_true", help="删除基准测试数据后退出")

    def handle(self, *args, **options):
        name = str(connection.settings_dict.get("NAME") or "")
        if "bench" not in name and not options["yes_i_know"]:
            raise CommandError(
                f"数据库“{name}”的名称不含 bench：基准测试会写入大量测试数据，请使用单独的数据库"
                "（如 DATABASE_URL=postgres://postgres@127.0.0.1:5432/conac_bench），或加 --yes-i-know。"
            )
        if options["domains"] < 1 or options["repeat"] < 1 or options["export_rows"] < 1:
            raise CommandError("--domains、--repeat、--export-rows 须大于0。")
        if options["export_rows"] > options["domains"]:
            raise CommandError(f"--export-rows {options['export_rows']:,} 多于 --domains {options['domains']:,}。")
        if "ALLOWED_HOSTS" in dir(settings) and "testserver" not in settings.ALLOWED_HOSTS:
            settings.ALLOWED_HOSTS.append("testserver")
        load_regions()
        if options["cleanup"]:
            self.cleanup()
            return
        existing = Domain.objects.filter(unit__name__startswith=BENCH_PREFIX).count()
        wanted = options["domains"]
        if existing < wanted:
            started = time.perf_counter()
            self.seed(wanted - existing, options["units_per_office"], offset=existing)
            self.stdout.write(f"生成 {wanted - existing:,} 个域名用时 {time.perf_counter() - started:.1f} 秒")
        total = Domain.objects.count()
        self.stdout.write(f"数据库：{connection.vendor}；域名总数 {total:,}")
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE registry_domain")
        self.measure(options["repeat"])
        self.measure_writer(options["export_rows"], options["tracemalloc"])
        self.measure_export_job(options["export_rows"])

    # --- seeding -----------------------------------------------------------------

    def seed(self, count, units_per_office, offset):
        units = self.bench_units(units_per_office)
        today = timezone.localdate()
        if connection.vendor == "postgresql":
            self.seed_postgresql(count, units, offset, today)
        else:
            self.seed_orm(count, units, offset, today)

    def bench_units(self, per_office):
        units = list(Unit.objects.filter(name__startswith=BENCH_PREFIX).values_list("pk", "office_id"))
        if units:
            return units
        created = []
        with transaction.atomic():
            for office in Office.objects.filter(code__in=BENCH_OFFICE_CODES).select_related("region"):
                region = office.region or Region.objects.get(code="110000")
                level = {
                    "000000": UnitLevel.CENTRAL,
                    Region.Level.PROVINCE: UnitLevel.PROVINCE,
                    Region.Level.PREFECTURE: UnitLevel.PREFECTURE,
                    Region.Level.COUNTY: UnitLevel.COUNTY,
                }[office.code if office.is_root else region.level]
                for i in range(per_office):
                    org = f"{80000000 + len(created):08d}"
                    body = f"11{region.code}{org}{org_code_check_char(org)}"
                    created.append(
                        Unit(
                            name=f"{BENCH_PREFIX}{office.code}-{i}",
                            kind=UnitKind.ORGAN,
                            credit_code=body + credit_code_check_char(body),
                            region=region,
                            level=level,
                            office=office,
                            address="基准路1号",
                            leader="甲",
                            contact="乙",
                            contact_mobile="+8613800138000",
                            contact_email="bench@example.cn",
                            handler="丙",
                            handler_id_number="11010519491231002X",
                        )
                    )
            Unit.objects.bulk_create(created, batch_size=1000)
        return list(Unit.objects.filter(name__startswith=BENCH_PREFIX).values_list("pk", "office_id"))

    def seed_postgresql(self, count, units, offset, today):
        """One INSERT … SELECT generate_series: a million rows in seconds."""
        unit_ids = [u for u, _ in units]
        office_ids = [o for _, o in units]
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO registry_domain
                    (public_id, unit_id, office_id, label, alabel, suffix, years, status,
                     registered_on, expires_on, delete_reason, created_at, updated_at,
                     review_round, submitted_at, rejection_reason)
                SELECT gen_random_uuid(),
                       (%(units)s::bigint[])[1 + (g %% %(n_units)s)],
                       (%(offices)s::bigint[])[1 + (g %% %(n_units)s)],
                       '基准' || g, 'bench' || g, '.政务', (1 + (g %% 5))::int,
                       CASE WHEN g %% 50 = 0 THEN 'pending_local'
                            WHEN g %% 50 = 1 THEN 'pending_conac'
                            ELSE 'active' END,
                       %(today)s::date - ((g * 7919) %% 3650)::int,
                       %(today)s::date - ((g * 7919) %% 3650)::int + (365 * (1 + (g %% 5)))::int,
                       '', now(), now(), 1, now() - make_interval(hours => (g %% 400)::int), ''
                FROM generate_series(%(start)s::bigint, %(stop)s::bigint) AS g
                """,
                {
                    "units": unit_ids,
                    "offices": office_ids,
                    "n_units": len(unit_ids),
                    "today": today,
                    "start": offset + 1,
                    "stop": offset + count,
                },
            )

    def seed_orm(self, count, units, offset, today):
        batch = []
        now = timezone.now()
        for g in range(offset + 1, offset + count + 1):
            unit_id, office_id = units[g % len(units)]
            registered = today - datetime.timedelta(days=(g * 7919) % 3650)
            batch.append(
                Domain(
                    public_id=uuid.uuid4(),
                    unit_id=unit_id,
                    office_id=office_id,
                    label=f"基准{g}",
                    alabel=f"bench{g}",
                    suffix=".政务",
                    years=1 + g % 5,
                    status=DomainStatus.ACTIVE,
                    registered_on=registered,
                    expires_on=registered + datetime.timedelta(days=365 * (1 + g % 5)),
                    submitted_at=now,
                )
            )
            if len(batch) == 10_000:
                Domain.objects.bulk_create(batch)
                batch = []
        Domain.objects.bulk_create(batch)

    def cleanup(self):
        with transaction.atomic():
            deleted, _ = Domain.objects.filter(unit__name__startswith=BENCH_PREFIX).delete()
            Unit.objects.filter(name__startswith=BENCH_PREFIX).delete()
        self.stdout.write(f"已删除基准测试数据（{deleted:,} 行）")

    # --- measuring ---------------------------------------------------------------

    def client_for(self, username, role, office_code=None):
        user, _ = User.objects.get_or_create(
            username=username,
            defaults={"role": role, "office": Office.objects.get(code=office_code) if office_code else None},
        )
        client = Client()
        client.force_login(user)
        return client

    def timed(self, client, url, repeat, *, after_change=False):
        """Median, slowest and the SQL count of ``repeat`` views; with ``after_change`` each view
        follows a change of domains (``freshness.changed``: kept queue rows and counts dropped)."""
        client.get(url)  # warm up
        times, queries = [], 0
        for _ in range(repeat):
            if after_change:
                freshness.changed()
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                response = client.get(url)
                times.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise CommandError(f"{url} 返回 {response.status_code}，不是 200。")
            queries = len(ctx.captured_queries)
        return statistics.median(times), max(times), queries

    def measure(self, repeat):
        today = timezone.localdate()
        conac = self.client_for("bench_conac", User.Role.CONAC)
        office = self.client_for("bench_office", User.Role.OFFICE, "110108")
        in_30 = (today + datetime.timedelta(days=30)).isoformat()
        in_365 = (today + datetime.timedelta(days=365)).isoformat()
        cases = [
            ("CONAC 域名查询 到期时间(止)=30天内", conac, f"/domains/search/?expires_to={in_30}"),
            (
                "CONAC 域名查询 到期时间 一年区间",
                conac,
                f"/domains/search/?expires_from={today.isoformat()}&expires_to={in_365}",
            ),
            (
                "CONAC 域名查询 一年区间 第50页",
                conac,
                f"/domains/search/?expires_from={today.isoformat()}&expires_to={in_365}&page=50",
            ),
            ("编办 域名查询 到期时间(止)=一年内", office, f"/domains/search/?expires_to={in_365}"),
            ("CONAC 域名查询 按域名", conac, "/domains/search/?domain=基准12345"),
            ("CONAC 域名查询 无条件", conac, "/domains/search/"),
            ("编办 待审核域名", office, "/domains/review/office/"),
            ("CONAC 待复审域名", conac, "/domains/review/conac/"),
        ]
        # Kept: nothing changed since the last view. After a change: every view follows a change of
        # domains elsewhere (a review, a fee), so the kept queue rows and counts are recomputed.
        self.stdout.write(
            f"{'页面':<36}{'中位数(ms)':>12}{'最慢(ms)':>12}{'SQL条数':>10}"
            f"{'变化后 中位数':>16}{'最慢':>8}{'SQL条数':>10}"
        )
        for title, client, url in cases:
            median, worst, queries = self.timed(client, url, repeat)
            cold_median, cold_worst, cold_queries = self.timed(client, url, repeat, after_change=True)
            self.stdout.write(
                f"{title:<36}{median * 1000:>12.1f}{worst * 1000:>12.1f}{queries:>10}"
                f"{cold_median * 1000:>16.1f}{cold_worst * 1000:>8.1f}{cold_queries:>10}"
            )

    def measure_writer(self, rows, trace):
        """The writer alone on exactly ``rows`` rows: the first by 到期时间, streamed from the database."""
        queryset = Domain.objects.order_by("expires_on", "id")[:rows]
        sampler = RssSampler()
        sampler.start()
        started = time.perf_counter()
        cpu = time.process_time()
        handle, written = exports.write(domain_queries.export_table(queryset))
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        sampler.stop()
        size = handle.seek(0, 2)
        handle.close()
        if written != rows:
            raise CommandError(f"写出器写了 {written:,} 行，应为 {rows:,} 行（数据库中的域名不够？）。")
        self.stdout.write(
            f"导出Excel 写出器 {rows:,} 行：{elapsed:.1f} 秒（CPU {cpu:.1f} 秒），文件 {size / 1e6:.1f} MB，"
            f"进程内存 {sampler.baseline / 1e6:.0f} MB → 峰值 {sampler.peak / 1e6:.0f} MB（增加 {sampler.growth / 1e6:.1f} MB）"
        )
        if trace:
            tracemalloc.start()
            started = time.perf_counter()
            handle = exports.write_xlsx(domain_queries.export_table(queryset))
            elapsed = time.perf_counter() - started
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            handle.close()
            self.stdout.write(f"  tracemalloc 跟踪下再写一次（{elapsed:.1f} 秒）：Python 堆峰值 {peak / 1e6:.1f} MB")

    def measure_export_job(self, rows):
        """The user's path: 导出Excel → export job → its task → the job page → the download."""
        from conac.tasks import run_export

        cut = Domain.objects.order_by("expires_on", "id").values_list("expires_on", flat=True)[rows - 1 : rows]
        last = cut[0] if cut else None
        if last is None:
            raise CommandError("没有可导出的域名（到期时间为空）。")
        expected = Domain.objects.filter(expires_on__lte=last).count()
        conac = self.client_for("bench_conac", User.Role.CONAC)
        url = f"/domains/search/export/?expires_to={last.isoformat()}"
        # The page only queues the task; it is run below, in this process, and timed on its own.
        queued = []
        real_queue, exports._queue = exports._queue, queued.append
        try:
            started = time.perf_counter()
            response = conac.get(url)
            asked = time.perf_counter() - started
        finally:
            exports._queue = real_queue
        location = response.get("Location", "")
        if response.status_code != 302 or not location.startswith("/exports/"):
            raise CommandError(
                f"导出Excel {url} 没有转到导出任务：返回 {response.status_code} {location}"
                f"（{expected:,} 行多于一页，应为导出任务）。"
            )
        job = ExportJob.objects.get(public_id=location.split("/")[2])
        sampler = RssSampler()
        sampler.start()
        started = time.perf_counter()
        run_export.apply(args=[job.pk])  # the Celery task's body, here and now
        ran = time.perf_counter() - started
        sampler.stop()
        job.refresh_from_db()
        if job.status != ExportStatus.DONE:
            raise CommandError(f"导出任务没有完成：{job.get_status_display()} {job.error}")
        if job.rows_done != expected:
            raise CommandError(f"导出任务写了 {job.rows_done:,} 行，查询结果是 {expected:,} 行。")
        page = conac.get(location)
        if page.status_code != 200 or f"{location}download/" not in page.content.decode():
            raise CommandError(f"导出任务页面 {location} 没有下载链接（{page.status_code}）。")
        download = conac.get(f"{location}download/")
        if download.status_code != 200 or not hasattr(download, "streaming_content"):
            raise CommandError(f"下载 {location}download/ 返回 {download.status_code}，不是文件。")
        size = sum(len(chunk) for chunk in download.streaming_content)
        exports.export_storage().delete(job.file_name)
        job.delete()
        self.stdout.write(
            f"导出Excel 导出任务（到期时间(止)={last.isoformat()}，{job.rows_done:,} 行）：页面请求 {asked * 1000:.0f} ms，"
            f"任务 {ran:.1f} 秒，文件 {size / 1e6:.1f} MB，进程内存增加 {sampler.growth / 1e6:.1f} MB"
        )


class RssSampler(threading.Thread):
    """Samples this process's resident memory every 20 ms (Linux /proc)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.baseline = self.peak = self.read()
        self._stop_event = threading.Event()

    @staticmethod
    def read():
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0

    def run(self):
        while not self._stop_event.wait(0.02):
            self.peak = max(self.peak, self.read())

    def stop(self):
        self._stop_event.set()
        self.join()
        self.peak = max(self.peak, self.read())

    @property
    def growth(self):
        return self.peak - self.baseline
