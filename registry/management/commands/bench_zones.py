"""Benchmark: seed N DNS records and time the zone publisher and NSD.

    createdb -h 127.0.0.1 -U postgres conac_bench_zones
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/conac_bench_zones
    python manage.py migrate
    python manage.py bench_zones --records 100000
    python manage.py bench_zones --records 1000000

It adds synthetic 注册成功 domains under ``.政务`` (units named “区域基准单位…”) with five
records each (A, AAAA, MX, TXT, CNAME; every 50th TXT longer than 255 octets), then:

1. publishes the zone, printing seconds per phase (write: the database stream, formatting
   and fsync; nsd-checkzone) and peak memory (``ru_maxrss`` of this process and of its
   children, and the tracemalloc peak of the Python heap during a second, traced publish);
   with ``--with-parse`` also a publish with the dnspython parse beside nsd-checkzone
   (``DNS_PARSE_CHECK = "always"``) and that parse's tracemalloc peak;
2. starts NSD on the zone (a free port on 127.0.0.1) and times one record from
   ``review.services.approve`` to dnspython getting its answer from NSD, through the
   coalesced publish (the Celery task, run eagerly here) and ``nsd-control reload``.

Records accumulate: run 100000 first, then 1000000. It refuses to run unless the
database's name contains “bench” (or with ``--yes-i-know``); ``--cleanup`` removes its data.
"""

import math
import resource
import shutil
import tempfile
import time
import tracemalloc
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from registry.dns import nsd, publishing, zones
from registry.dns.models import DnsRecord, ZoneState
from registry.domains.names import SUFFIXES
from registry.models import Domain, Office, Unit, UnitKind, UnitLevel, User
from registry.organisations.regions import load_regions
from registry.organisations.validators import credit_code_check_char, org_code_check_char

BENCH_PREFIX = "区域基准单位"
BENCH_OFFICE = "110108"
SUFFIX = ".政务"
PER_DOMAIN = 5
UNITS = 20


def mark_dirty():
    """The zone has changed (without scheduling a publish: this command publishes itself)."""
    ZoneState.objects.get_or_create(zone=SUFFIXES[SUFFIX])
    ZoneState.objects.filter(zone=SUFFIXES[SUFFIX]).update(requested=F("requested") + 1)


def maxrss_mb(who=resource.RUSAGE_SELF):
    return resource.getrusage(who).ru_maxrss / 1024  # kilobytes on Linux


class Command(BaseCommand):
    help = "基准测试：生成N条解析记录，测量区域发布（写出、检查、解析）的耗时与内存，以及审核通过到NSD应答的时间"

    def add_arguments(self, parser):
        parser.add_argument("--records", type=int, default=1_000_000)
        parser.add_argument("--yes-i-know", action="store_true", help="数据库名称不含 bench 时也运行（会写入测试数据）")
        parser.add_argument("--cleanup", action="store_true", help="删除基准测试数据后退出")
        parser.add_argument("--no-tracemalloc", action="store_true", help="不做 tracemalloc 跟踪的第二次发布")
        parser.add_argument(
            "--with-parse", action="store_true", help="另外测量 dnspython 完整解析（DNS_PARSE_CHECK=always）"
        )
        parser.add_argument("--no-nsd", action="store_true", help="不启动NSD，不测量审核通过到应答的时间")
        parser.add_argument("--zone-dir", help="区域文件目录（默认临时目录）")

    def handle(self, *args, **options):
        name = str(connection.settings_dict.get("NAME") or "")
        if "bench" not in name and not options["yes_i_know"]:
            raise CommandError(
                f"数据库“{name}”的名称不含 bench：基准测试会写入大量测试数据，请使用单独的数据库"
                "（如 DATABASE_URL=postgres://postgres@127.0.0.1:5432/conac_bench_zones），或加 --yes-i-know。"
            )
        if connection.vendor != "postgresql":
            raise CommandError("区域基准测试需要 PostgreSQL（INSERT … SELECT generate_series 生成数据）。")
        load_regions()
        if options["cleanup"]:
            self.cleanup()
            return
        zone_dir = Path(options["zone_dir"] or tempfile.mkdtemp(prefix="bench-zones-"))
        settings.DNS_ZONE_DIR = str(zone_dir)
        settings.DNS_NSD_CONTROL = ""  # no reload during the phase measurements

        wanted = options["records"]
        existing = self.bench_records()
        if existing < wanted:
            started = time.perf_counter()
            self.seed(existing, wanted)
            self.stdout.write(f"生成 {wanted - existing:,} 条解析记录用时 {time.perf_counter() - started:.1f} 秒")
        elif existing > wanted:
            self.stdout.write(
                f"注意：已有 {existing:,} 条基准记录（多于 {wanted:,}），按现有数据测量；--cleanup 可清除。"
            )
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE registry_domain")
                cursor.execute("ANALYZE registry_dnsrecord")
        in_zone = DnsRecord.objects.effective().filter(zones.in_zone_domains(SUFFIX, timezone.localdate())).count()
        self.stdout.write(f"数据库：{connection.vendor} {name}；区域 {SUFFIXES[SUFFIX]} 有效记录 {in_zone:,} 条")

        try:
            self.measure_publish(trace=not options["no_tracemalloc"], with_parse=options["with_parse"])
            if not options["no_nsd"]:
                self.measure_approval(zone_dir)
        finally:
            if not options["zone_dir"]:
                shutil.rmtree(zone_dir, ignore_errors=True)

    # --- seeding -------------------------------------------------------------------

    def bench_records(self):
        """The records this command seeded (records added through an approval have a change)."""
        return DnsRecord.objects.filter(domain__unit__name__startswith=BENCH_PREFIX, changes__isnull=True).count()

    def bench_units(self):
        units = list(Unit.objects.filter(name__startswith=BENCH_PREFIX).order_by("pk"))
        if units:
            return units
        office = Office.objects.select_related("region").get(code=BENCH_OFFICE)
        created = []
        for i in range(UNITS):
            org = f"{81000000 + i:08d}"
            body = f"11{office.region.code}{org}{org_code_check_char(org)}"
            created.append(
                Unit(
                    name=f"{BENCH_PREFIX}{i}",
                    kind=UnitKind.ORGAN,
                    credit_code=body + credit_code_check_char(body),
                    region=office.region,
                    level=UnitLevel.COUNTY,
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
        Unit.objects.bulk_create(created)
        return list(Unit.objects.filter(name__startswith=BENCH_PREFIX).order_by("pk"))

    def seed(self, existing, wanted):
        units = self.bench_units()
        unit_ids = [u.pk for u in units]
        office_id = units[0].office_id
        first_domain = existing // PER_DOMAIN + 1  # domain g holds records (g-1)*5+1 … g*5
        last_domain = math.ceil(wanted / PER_DOMAIN)
        have = Domain.objects.filter(unit__name__startswith=BENCH_PREFIX).count()
        today = timezone.localdate()
        steps = {}
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            if last_domain > have:
                cursor.execute(
                    """
                    INSERT INTO registry_domain
                        (public_id, unit_id, office_id, label, alabel, suffix, years, status,
                         registered_on, expires_on, delete_reason, created_at, updated_at,
                         review_round, submitted_at, rejection_reason)
                    SELECT gen_random_uuid(), (%(units)s::bigint[])[1 + (g %% %(n_units)s)], %(office)s,
                           'zb' || g, 'zb' || g, %(suffix)s, 1, 'active',
                           %(today)s::date - 10, %(today)s::date + 355,
                           '', now(), now(), 1, now(), ''
                    FROM generate_series(%(start)s::bigint, %(stop)s::bigint) AS g
                    """,
                    {
                        "units": unit_ids,
                        "n_units": len(unit_ids),
                        "office": office_id,
                        "suffix": SUFFIX,
                        "today": today,
                        "start": have + 1,
                        "stop": last_domain,
                    },
                )
            steps["域名"] = time.perf_counter() - started
            cursor.execute(
                """
                INSERT INTO registry_dnsrecord
                    (public_id, domain_id, host, rtype, value, ttl, priority, caa_flags, caa_tag,
                     redirect_code, keep_path, created_at, updated_at, removed_at)
                SELECT gen_random_uuid(), d.id,
                       CASE WHEN k = 4 THEN 'www' ELSE '@' END,
                       (ARRAY['A', 'AAAA', 'MX', 'TXT', 'CNAME'])[k + 1],
                       CASE k
                         WHEN 0 THEN '20.' || ((d.g >> 16) & 255) || '.' || ((d.g >> 8) & 255) || '.' || (d.g & 255)
                         WHEN 1 THEN '2400:3200:' || to_hex(d.g >> 16) || ':' || to_hex(d.g & 65535) || '::1'
                         WHEN 2 THEN 'mx' || (d.g %% 10) || '.mail.example.cn'
                         WHEN 3 THEN CASE WHEN d.g %% 50 = 0
                                          THEN 'v=DKIM1; k=rsa; p=' || repeat(md5(d.g::text), 10)
                                          ELSE 'v=spf1 ip4:20.' || ((d.g >> 16) & 255) || '.0.0/16 -all' END
                         ELSE d.alabel || '.xn--zfr164b'
                       END,
                       CASE WHEN k = 3 THEN 3600 ELSE 600 END,
                       CASE WHEN k = 2 THEN 10 END, NULL, '', NULL, false, now(), now(), NULL
                FROM (
                    SELECT id, alabel, substr(alabel, 3)::bigint AS g
                    FROM registry_domain
                    WHERE unit_id = ANY(%(units)s::bigint[]) AND alabel LIKE 'zb%%'
                ) AS d
                CROSS JOIN generate_series(0, 4) AS k
                WHERE (d.g - 1) * 5 + k + 1 BETWEEN %(start)s AND %(stop)s
                """,
                {"units": unit_ids, "start": existing + 1, "stop": wanted},
            )
            steps["记录"] = time.perf_counter() - started - steps.get("域名", 0)
            mark_dirty()
            committing = time.perf_counter()
        steps["提交"] = time.perf_counter() - committing
        shown = "，".join(f"{k} {v:.1f} 秒" for k, v in steps.items())
        self.stdout.write(f"基准域名 {last_domain:,} 个（第 {first_domain:,} 个起为新增或补齐）：{shown}")

    def cleanup(self):
        """Delete the bench domains and their records and changes in three statements.

        The bench units and accounts stay (their audit entries and review decisions keep
        them), to be used again by the next run.
        """
        prefix = BENCH_PREFIX + "%"
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMPORARY TABLE bench_domains ON COMMIT DROP AS SELECT d.id FROM registry_domain d "
                "JOIN registry_unit u ON u.id = d.unit_id WHERE u.name LIKE %s",
                [prefix],
            )
            cursor.execute("DELETE FROM registry_dnschange WHERE domain_id IN (SELECT id FROM bench_domains)")
            cursor.execute("DELETE FROM registry_dnsrecord WHERE domain_id IN (SELECT id FROM bench_domains)")
            records = cursor.rowcount
            cursor.execute("DELETE FROM registry_domain WHERE id IN (SELECT id FROM bench_domains)")
            deleted = cursor.rowcount
            mark_dirty()
        self.stdout.write(f"已删除基准测试数据（{records:,} 条记录，{deleted:,} 个域名）")

    # --- measuring -------------------------------------------------------------------

    def measure_publish(self, trace, with_parse):
        zone = SUFFIXES[SUFFIX]
        rss_before = maxrss_mb()
        result = zones.publish(SUFFIX)
        self.report(result, "发布")
        self.stdout.write(
            f"  峰值常驻内存 ru_maxrss：本进程 {rss_before:.0f} MB（发布前）→ {maxrss_mb():.0f} MB；"
            f"子进程（nsd-checkzone，或 exec 前的 fork） {maxrss_mb(resource.RUSAGE_CHILDREN):.0f} MB"
        )
        if with_parse:
            # The dnspython parse as well (DNS_PARSE_CHECK = "always"), beside nsd-checkzone.
            previous = getattr(settings, "DNS_PARSE_CHECK", "auto")
            settings.DNS_PARSE_CHECK = "always"
            try:
                both = zones.publish(SUFFIX)
            finally:
                settings.DNS_PARSE_CHECK = previous
            self.report(both, "发布（DNS_PARSE_CHECK=always，另加 dnspython 解析）")
            parse = both.timings.get("parse", 0)
            self.stdout.write(f"  dnspython 解析 {parse / max(both.records, 1) * 1e6:.1f} 微秒/条")
        if trace:
            tracemalloc.start()
            traced = zones.publish(SUFFIX)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            self.stdout.write(
                f"  tracemalloc 跟踪下再发布一次（{traced.seconds:.1f} 秒）：Python 堆峰值 {peak / 1e6:.1f} MB；"
                f"ru_maxrss {maxrss_mb():.0f} MB"
            )
            if with_parse:
                tracemalloc.start()
                started = time.perf_counter()
                zones.parse_zone_file(zone, traced.path)
                _, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
                self.stdout.write(
                    f"  tracemalloc 跟踪下 dnspython 解析（{time.perf_counter() - started:.1f} 秒）："
                    f"Python 堆峰值 {peak / 1e6:.1f} MB；ru_maxrss {maxrss_mb():.0f} MB"
                )

    def report(self, result, title):
        t = result.timings
        size = result.path.stat().st_size
        self.stdout.write(
            f"{title} {result.zone}：{result.records:,} 条记录，文件 {size / 1e6:.1f} MB，序列号 {result.serial}，"
            f"共 {result.seconds:.1f} 秒"
        )
        phases = [f"写出（数据库流式读取+格式化+fsync） {t['write']:.1f} 秒"]
        if "checkzone" in t:
            phases.append(f"nsd-checkzone {t['checkzone']:.1f} 秒")
        if "parse" in t:
            phases.append(f"dnspython 解析 {t['parse']:.1f} 秒")
        phases.append(f"检查合计（并行） {t['check']:.1f} 秒")
        self.stdout.write("  " + "；".join(phases))

    def bench_actors(self):
        # The first bench unit with a domain (with a few records, not every unit has one).
        unit = Unit.objects.filter(name__startswith=BENCH_PREFIX, domains__status="active").order_by("pk").first()
        if unit is None:
            raise CommandError("没有注册成功的基准域名，无法测量审核通过到应答的时间。")
        unit_user = User.objects.filter(username="bench_zone_unit").first()
        if unit_user is None:
            unit_user = User.objects.create(username="bench_zone_unit", role=User.Role.UNIT, unit=unit)
        conac, _ = User.objects.get_or_create(username="bench_zone_conac", defaults={"role": User.Role.CONAC})
        # A different domain each run: the per-domain record limit is never reached.
        domains = Domain.objects.filter(unit=unit_user.unit, status="active").order_by("pk")
        domain = domains[int(time.time()) % min(domains.count(), 1000)]
        return unit_user, conac, domain

    def measure_approval(self, zone_dir):
        zones.publish_dirty(force=True)  # both zones on disk before NSD starts
        run_dir = Path(tempfile.mkdtemp(prefix="bench-nsd-"))
        try:
            self.approve_and_ask(zone_dir, run_dir)
        finally:
            shutil.rmtree(run_dir, ignore_errors=True)

    def approve_and_ask(self, zone_dir, run_dir):
        import dns.exception
        import dns.message
        import dns.query
        import dns.rcode

        from conac.celery import app
        from registry.dns import services
        from review import services as review

        port = nsd.free_port()
        config = nsd.write_config(run_dir / "nsd.conf", port=port, zonesdir=zone_dir, secondaries=[])
        zone = SUFFIXES[SUFFIX]
        serial = ZoneState.objects.get(zone=zone).serial
        started = time.perf_counter()
        with nsd.NsdServer(config, port=port) as server:
            self.wait_for(lambda: self.soa_serial(zone, port) == serial, 300)
            self.stdout.write(f"NSD 启动并加载 {zone}（序列号 {serial}）：{time.perf_counter() - started:.1f} 秒")
            settings.DNS_NSD_CONTROL = nsd.find_program("nsd-control")
            settings.DNS_NSD_CONFIG = str(config)
            app.conf.task_always_eager = True  # the coalesced publish runs here, as soon as the approval commits
            cache.delete(publishing.SCHEDULED_KEY)
            unit_user, conac, domain = self.bench_actors()
            host = f"t{int(time.time())}"
            name = f"{host}.{domain.alabel}.{zone}."
            change = services.request_add(domain, actor=unit_user, host=host, rtype="A", value="20.9.9.9", ttl=600)

            def answered():
                try:
                    reply = dns.query.udp(dns.message.make_query(name, "A"), "127.0.0.1", port=port, timeout=1)
                except dns.exception.Timeout:
                    return False
                return reply.rcode() == dns.rcode.NOERROR and any(
                    r.to_text() == "20.9.9.9" for rrset in reply.answer for r in rrset
                )

            if answered():
                raise CommandError(f"{name} 在审核通过之前已有应答。")
            started = time.perf_counter()
            review.approve(change, actor=conac)
            approved = time.perf_counter()
            self.wait_for(answered, 300)
            done = time.perf_counter()
            self.stdout.write(
                f"审核通过 → NSD 应答新记录 {name}：{done - started:.1f} 秒"
                f"（审核事务+合并发布+nsd-control reload 返回 {approved - started:.1f} 秒，"
                f"NSD 加载新区域到应答 {done - approved:.1f} 秒；不含 DNS_PUBLISH_DELAY="
                f"{settings.DNS_PUBLISH_DELAY:g} 秒的合并等待）"
            )
            self.stdout.write(f"  峰值常驻内存 ru_maxrss：本进程 {maxrss_mb():.0f} MB")
            server.stop()

    def soa_serial(self, zone, port):
        import dns.exception
        import dns.message
        import dns.query
        import dns.rdatatype

        try:
            reply = dns.query.udp(dns.message.make_query(zone + ".", "SOA"), "127.0.0.1", port=port, timeout=1)
        except (dns.exception.Timeout, OSError):
            return None
        for rrset in reply.answer:
            if rrset.rdtype == dns.rdatatype.SOA:
                return rrset[0].serial
        return None

    def wait_for(self, condition, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.02)
        raise CommandError(f"{timeout} 秒内没有等到NSD应答。")
