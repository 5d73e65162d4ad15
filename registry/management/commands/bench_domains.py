"""Benchmark: seed N domains and time the domain pages through the test client.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/conac_bench \
        python manage.py bench_domains --domains 1000000

Run it on a database of its own: it adds N domains (and a few hundred units) marked
“基准测试”, and removes them with ``--cleanup``.
"""

import datetime
import statistics
import threading
import time
import uuid

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

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
        parser.add_argument("--export-rows", type=int, default=100_000)
        parser.add_argument("--cleanup", action="store_true", help="删除基准测试数据后退出")

    def handle(self, *args, **options):
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
        self.measure(options["repeat"], options["export_rows"])

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

    def timed(self, client, url, repeat):
        client.get(url)  # warm up
        times, queries = [], 0
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                response = client.get(url)
                times.append(time.perf_counter() - started)
            assert response.status_code == 200, (url, response.status_code)
            queries = len(ctx.captured_queries)
        return statistics.median(times), max(times), queries

    def measure(self, repeat, export_rows):
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
        self.stdout.write(f"{'页面':<36}{'中位数(ms)':>12}{'最慢(ms)':>12}{'SQL条数':>10}")
        for title, client, url in cases:
            median, worst, queries = self.timed(client, url, repeat)
            self.stdout.write(f"{title:<36}{median * 1000:>12.1f}{worst * 1000:>12.1f}{queries:>10}")

        # 导出Excel of the first `export_rows` rows by expiry: time and peak Python memory.
        ids = Domain.objects.order_by("expires_on", "id").values_list("expires_on", flat=True)[
            export_rows - 1 : export_rows
        ]
        last = ids[0].isoformat() if ids else in_365
        url = f"/domains/search/export/?expires_to={last}"
        sampler = RssSampler()
        sampler.start()
        started = time.perf_counter()
        response = conac.get(url)
        size = sum(len(chunk) for chunk in response.streaming_content)
        elapsed = time.perf_counter() - started
        sampler.stop()
        rows = Domain.objects.filter(expires_on__lte=last).count()
        self.stdout.write(
            f"导出Excel {rows:,} 行：{elapsed:.1f} 秒，文件 {size / 1e6:.1f} MB，"
            f"进程内存 {sampler.baseline / 1e6:.0f} MB → 峰值 {sampler.peak / 1e6:.0f} MB（增加 {sampler.growth / 1e6:.1f} MB）"
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
