"""Load benchmark: the staff list pages under concurrent use, against a WhiteNoise static file.

    createdb conac_load2m
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/conac_load2m python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/conac_load2m python manage.py bench_load

Data (generated once, kept for the next run; ``--cleanup`` removes it): ``--domains`` domains
(2,000,000 by default) of units in every office — a few dozen units in each of the
``BIG_OFFICES``, one in every other office — in every state, and a money history for every
office: a registration charge for every domain past review (待缴费, 已收费, 已认款), renewals
taken effect, one 收费记录 per unit, two years of monthly remittances (the last two 待认款),
the ledger (credits, then each consumed charge debited) and the balance. All of it is written
by INSERT … SELECT generate_series on PostgreSQL: two million domains in a few minutes.

Method: one gunicorn (``--workers`` sync workers, ``DEBUG=False``, production settings
otherwise — database connections and sessions as configured) on 127.0.0.1. Staff log in over
HTTP through 登录 like a person — one session per office in ``BIG_OFFICES`` and several CONAC
sessions — and wrk (``-c16`` by default) drives each page for ``--duration`` seconds; a Lua
script rotates the requests over the sessions (each session asks for its own office's pages)
and over pages 1–3 of each list, and counts every answer that is not 200 (a lost session
redirects to 登录). A WhiteNoise static file is measured in the same run. Each figure is
printed with the load average of the machine at the time (``uptime``), since the machine is
shared. Bounded in time: (pages + 1) × (``--duration`` + 2 s warm-up) plus logging in.

Runs only on a PostgreSQL database whose name starts with “conac_load” or contains “bench” (or with
``--yes-i-know``, as the test that keeps it from rotting does). Everything it starts is stopped
when it ends.
"""

import datetime
import os
import re
import shutil
import subprocess  # nosec B404: fixed argument lists, no shell
import tempfile
import time
import unicodedata
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlencode

from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from billing.models import Charge, FeeMarking, LedgerEntry, OfficeAccount, Remittance
from registry.management.commands.bench_forwarding import SITE_HOST, Gunicorn
from registry.models import Domain, Office, Region, Unit, UnitKind, UnitLevel, User
from registry.organisations.regions import load_regions
from registry.organisations.validators import credit_code_check_char, org_code_check_char

PREFIX = "负载测试单位"
USER_PREFIX = "load-"
PASSWORD = "Load12345678"  # nosec B105: benchmark accounts on a benchmark database only
# Offices with many units (and the office sessions): a district, a city with its districts,
# provinces, a prefecture-level city, and 中央编办 (whose scope is the whole country).
BIG_OFFICES = ["110108", "110105", "110000", "310000", "310104", "440300", "440305", "320000", "330106", "000000"]
CONAC_SESSIONS = 6
# Realistic unit-like names: the queue's variants and similar names are computed from them.
NAMES = [
    "北京示范志愿者协会", "海淀区示范图书馆", "示范街道办事处", "国家示范管理局", "示范研究中心",
    "示范公益基金会", "示范信息中心", "示范档案馆", "示范慈善基金会", "示范社会工作服务中心",
    "朝阳区卫生健康委员会", "浦东新区发展和改革委员会", "深圳市南山区教育局", "杭州市西湖区文化馆",
    "广东省气象局", "江苏省人民检察院", "上海市黄浦区人民法院", "南京市鼓楼区图书馆",
]  # fmt: skip


class Command(BaseCommand):
    help = (
        "负载测试：多个编办和CONAC的真实会话并发访问员工列表页面（gunicorn + wrk，本机回环），与WhiteNoise静态文件对比"
    )

    def add_arguments(self, parser):
        parser.add_argument("--domains", type=int, default=2_000_000)
        parser.add_argument("--units-per-big-office", type=int, default=40)
        parser.add_argument("--duration", type=int, default=10, help="每个页面wrk运行的秒数")
        parser.add_argument("--threads", type=int, default=2)
        parser.add_argument("--connections", type=int, default=16, help="并发连接数（同时在用的员工会话）")
        parser.add_argument("--workers", type=int, default=4, help="gunicorn sync worker数")
        parser.add_argument("--timeout", type=int, default=10, help="wrk 的请求超时秒数（超时的请求不计入延迟）")
        parser.add_argument("--cache-url", default=os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/13"))
        parser.add_argument("--reference-bytes", type=int, default=20_000, help="参照静态文件的字节数")
        parser.add_argument("--only", default="", help="只测这些页面（逗号分隔的编号，如 1,3）")
        parser.add_argument("--seed-only", action="store_true", help="只生成数据")
        parser.add_argument("--cleanup", action="store_true", help="删除负载测试数据后退出")
        parser.add_argument("--yes-i-know", action="store_true", help="数据库名称不含 load/bench 时也运行")

    def handle(self, *args, **options):
        name = str(connection.settings_dict["NAME"])
        if connection.vendor != "postgresql" or not (
            name.startswith("conac_load") or "bench" in name or options["yes_i_know"]
        ):  # fmt: skip
            raise CommandError(
                f"只在名称以“conac_load”开头或含“bench”的PostgreSQL数据库上运行（当前：{connection.vendor} {name}），"
                "如 DATABASE_URL=postgres://postgres@127.0.0.1:5432/conac_load2m，或加 --yes-i-know。"
            )
        if options["domains"] < 1 or not 1 <= options["duration"] <= 120 or options["connections"] < 1:
            raise CommandError("--domains 须大于0，--duration 1–120 秒，--connections 须大于0。")
        load_regions()
        if options["cleanup"]:
            self.cleanup()
            return
        wrk = shutil.which("wrk")
        if not wrk and not options["seed_only"]:
            raise CommandError("没有找到wrk（Debian：apt-get install wrk）。")
        existing = Domain.objects.filter(unit__name__startswith=PREFIX).count()
        if existing < options["domains"]:
            if existing:
                raise CommandError(
                    f"已有 {existing:,} 个负载测试域名，少于 --domains {options['domains']:,}：先 --cleanup 再生成。"
                )
            started = time.perf_counter()
            self.seed(options["domains"], options["units_per_big_office"])
            self.stdout.write(
                f"生成 {options['domains']:,} 个域名及其收费、汇款、账本用时 {time.perf_counter() - started:.0f} 秒"
            )
        users = self.staff_users()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")  # as autovacuum leaves a settled database (visibility map, statistics)
        self.stdout.write(self.data_summary())
        if options["seed_only"]:
            return
        with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
            server = LoadGunicorn(Path(tmp), options["workers"], options["cache_url"], self.stdout)
            try:
                server.start(reference_size=options["reference_bytes"])
                sessions = {role: [login(server.port, u) for u in group] for role, group in users.items()}
                self.stdout.write(
                    f"gunicorn {options['workers']} sync workers，DEBUG=False，127.0.0.1:{server.port}；"
                    f"登录 {len(sessions['office'])} 个编办会话、{len(sessions['conac'])} 个CONAC会话；"
                    f"wrk -t{options['threads']} -c{options['connections']} -d{options['duration']}s"
                )
                results = self.drive(server, wrk, sessions, options)
            finally:
                server.stop()
        self.report(results)

    # --- the pages -----------------------------------------------------------------

    def cases(self, sessions, static_url):
        today = timezone.localdate()
        year = urlencode(
            {"expires_from": today.isoformat(), "expires_to": (today + datetime.timedelta(365)).isoformat()}
        )
        office = sessions["office"]
        conac = sessions["conac"]
        pages = ["", "page=2", "page=3"]
        return [
            ("CONAC 域名查询 无条件", conac, [f"/domains/search/?{p}" for p in pages]),
            ("编办 域名查询 到期时间一年内", office, [f"/domains/search/?{year}&{p}" for p in pages]),
            ("编办 待审核域名", office, ["/domains/review/office/", "/domains/review/office/?page=2"]),
            ("CONAC 待复审域名", conac, ["/domains/review/conac/", "/domains/review/conac/?page=2"]),
            ("编办 对账报表", office, ["/billing/reconciliation/"]),
            ("CONAC 对账报表", conac, ["/billing/reconciliation/", "/billing/reconciliation/?page=2"]),
            ("编办 汇款管理", office, ["/billing/remittances/", "/billing/remittances/?page=2"]),
            ("编办 收费（申报单位管理/缴费）", office, ["/units/", "/units/?page=2"]),
            ("WhiteNoise 静态文件（参照）", [None], [static_url]),
        ]

    def drive(self, server, wrk, sessions, options):
        cases = self.cases(sessions, server.static_url)
        wanted = {int(n) for n in options["only"].split(",") if n.strip()}
        runner = LuaWrk(
            wrk, options["threads"], options["connections"], Path(server.tmp), server.port, options["timeout"]
        )
        results = []
        self.stdout.write(f"{'页面':<34}{'req/s':>9}{'p50(ms)':>10}{'p99(ms)':>10}{'非200':>8}{'超时':>6}{'负载':>8}")
        for number, (title, group, paths) in enumerate(cases, start=1):
            if wanted and number not in wanted and paths[0] != server.static_url:
                continue
            requests = [(path, cookie) for cookie in group for path in paths]
            # Every session's first page answers 200 before the timing starts (and warms the workers).
            for path, cookie in requests:
                status, body = fetch(server.port, path, cookie)
                if status != 200:
                    log = server.log_path.read_text(errors="replace")[-3000:]
                    raise CommandError(f"{title} {path} 返回 {status}，不是 200：\n{log}")
            runner(requests, 2)
            result = runner(requests, options["duration"])
            result["title"] = title
            result["load"] = os.getloadavg()[0]
            results.append(result)
            self.stdout.write(
                f"{pad(title, 34)}{result['rps']:>9.1f}{result['p50_ms']:>10.1f}{result['p99_ms']:>10.1f}"
                f"{result['bad']:>8}{result['timeouts']:>6}{result['load']:>8.1f}"
            )
        return results

    def report(self, results):
        static = next((r for r in results if "静态" in r["title"]), None)
        if not static or not static["rps"]:
            return
        self.stdout.write(
            "\n| 页面 | req/s | p50 | p99 | ÷ 静态文件 | 非200 / 超时 | uptime 负载 |\n|---|---|---|---|---|---|---|"
        )
        for r in results:
            # wrk's latencies cover only the requests that were answered before its timeout.
            p50, p99 = (f"{r[k]:,.0f} ms" if r[k] else "—（全部超时）" for k in ("p50_ms", "p99_ms"))
            self.stdout.write(
                f"| {r['title']} | {r['rps']:,.1f} | {p50} | {p99} | "
                f"{r['rps'] / static['rps']:.3f} | {r['bad']} / {r['timeouts']} | {r['load']:.1f} |"
            )

    # --- accounts ------------------------------------------------------------------

    def staff_users(self):
        """One account per big office and CONAC_SESSIONS CONAC accounts, all with PASSWORD."""
        # PBKDF2 whatever this process's hashers (the test settings use MD5, gunicorn the real list),
        # with few iterations: logging in the benchmark's sessions is not what is measured.
        encoded = PBKDF2PasswordHasher().encode(PASSWORD, PBKDF2PasswordHasher().salt(), iterations=1000)
        offices = Office.objects.filter(code__in=BIG_OFFICES).order_by("code")
        wanted = [(f"{USER_PREFIX}office-{o.code}", User.Role.OFFICE, o) for o in offices]
        wanted += [(f"{USER_PREFIX}conac-{i}", User.Role.CONAC, None) for i in range(CONAC_SESSIONS)]
        users = {"office": [], "conac": []}
        for username, role, office in wanted:
            user, _ = User.objects.update_or_create(
                username=username, defaults={"role": role, "office": office, "password": encoded, "is_active": True}
            )
            users[role].append(user)
        return users

    # --- data ----------------------------------------------------------------------

    def data_summary(self):
        return (
            f"数据库：{connection.settings_dict['NAME']}；域名 {Domain.objects.count():,}，单位 {Unit.objects.count():,}，"
            f"编办 {Office.objects.count():,}；消费 {Charge.objects.count():,}，收费记录 {FeeMarking.objects.count():,}，"
            f"汇款 {Remittance.objects.count():,}，账目 {LedgerEntry.objects.count():,}，"
            f"编办账户 {OfficeAccount.objects.count():,}"
        )

    @transaction.atomic
    def seed(self, count, per_big_office):
        big, every = self.seed_units(per_big_office)
        marker = User.objects.update_or_create(
            username=f"{USER_PREFIX}seeder", defaults={"role": User.Role.CONAC, "office": None}
        )[0]
        today = timezone.localdate()
        with connection.cursor() as cursor:
            self.stdout.write(f"  域名 {count:,} 个…")
            cursor.execute(SEED_DOMAINS, {
                "big_units": [u for u, _ in big], "big_offices": [o for _, o in big],
                "all_units": [u for u, _ in every], "all_offices": [o for _, o in every],
                "names": NAMES, "today": today, "n": count,
            })  # fmt: skip
            self.stdout.write("  收费记录、汇款…")
            cursor.execute(SEED_MARKINGS, {"user": marker.pk, "prefix": PREFIX})
            cursor.execute(SEED_REMITTANCES, {"user": marker.pk, "prefix": PREFIX, "today": today})
            self.stdout.write("  消费…")
            cursor.execute(SEED_CHARGES, {"prefix": PREFIX})
            self.stdout.write("  账本与余额…")
            cursor.execute(SEED_REMITTANCE_AMOUNTS)
            cursor.execute(SEED_LEDGER)
            cursor.execute(SEED_ACCOUNTS)

    def seed_units(self, per_big_office):
        """Units: ``per_big_office`` in each of BIG_OFFICES, one in every other office."""
        created = []
        offices = list(Office.objects.select_related("region").order_by("code"))
        beijing = Region.objects.get(code="110000")
        for office in offices:
            region = office.region or beijing
            level = UnitLevel.CENTRAL if office.is_root else {
                Region.Level.PROVINCE: UnitLevel.PROVINCE,
                Region.Level.PREFECTURE: UnitLevel.PREFECTURE,
                Region.Level.COUNTY: UnitLevel.COUNTY,
            }[region.level]  # fmt: skip
            for i in range(per_big_office if office.code in BIG_OFFICES else 1):
                org = f"{70000000 + len(created):08d}"
                body = f"11{region.code}{org}{org_code_check_char(org)}"
                created.append(
                    Unit(
                        name=f"{PREFIX}{office.code}-{i}", kind=UnitKind.ORGAN,
                        credit_code=body + credit_code_check_char(body), region=region, level=level, office=office,
                        address="负载路1号", leader="甲", contact="乙", contact_mobile="+8613800138000",
                        contact_email="load@example.cn", handler="丙", handler_id_number="11010519491231002X",
                    )
                )  # fmt: skip
        Unit.objects.bulk_create(created, batch_size=2000)
        rows = list(Unit.objects.filter(name__startswith=PREFIX).values_list("pk", "office_id", "office__code"))
        big = [(u, o) for u, o, code in rows if code in BIG_OFFICES]
        return big, [(u, o) for u, o, _ in rows]

    def cleanup(self):
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in CLEANUP:
                cursor.execute(statement, {"like": PREFIX + "%"})
            User.objects.filter(username__startswith=USER_PREFIX).delete()
        self.stdout.write("已删除负载测试数据")


CLEANUP = [
    "DELETE FROM billing_ledgerentry WHERE office_id IN "
    "(SELECT office_id FROM billing_remittance WHERE voucher_no LIKE 'LOAD-%%')",
    "DELETE FROM billing_officeaccount WHERE office_id IN "
    "(SELECT office_id FROM billing_remittance WHERE voucher_no LIKE 'LOAD-%%')",
    "DELETE FROM billing_charge WHERE unit_id IN (SELECT id FROM registry_unit WHERE name LIKE %(like)s)",
    "DELETE FROM billing_remittance WHERE voucher_no LIKE 'LOAD-%%'",
    "DELETE FROM billing_feemarking WHERE unit_id IN (SELECT id FROM registry_unit WHERE name LIKE %(like)s)",
    "DELETE FROM registry_domain WHERE unit_id IN (SELECT id FROM registry_unit WHERE name LIKE %(like)s)",
    "DELETE FROM registry_unit WHERE name LIKE %(like)s",
]


# Domain g: even g to a unit of a big office, odd g to a unit of any office; the state by g % 100.
SEED_DOMAINS = """
INSERT INTO registry_domain
    (public_id, unit_id, office_id, label, alabel, suffix, years, status, registered_on, expires_on,
     delete_reason, created_at, updated_at, review_round, submitted_at, rejection_reason, deleted_at)
SELECT gen_random_uuid(), unit_id, office_id,
       (%(names)s::text[])[1 + (g %% array_length(%(names)s::text[], 1))] || g, 'load' || g,
       CASE WHEN g %% 3 = 0 THEN '.公益' ELSE '.政务' END, years, status,
       CASE WHEN status IN ('active', 'expired', 'deleted') THEN registered END,
       CASE WHEN status IN ('active', 'expired', 'deleted') THEN
            CASE WHEN status = 'expired' THEN %(today)s::date - (1 + g %% 300)::int
                 ELSE greatest(registered + 365 * years, %(today)s::date + (g %% 700)::int) END END,
       '', now(), now(), 1, now() - make_interval(secs => ((g * 7919) %% (86400 * 60))::int), '',
       CASE WHEN status = 'deleted' THEN now() END
FROM (
    SELECT g,
           CASE WHEN g %% 2 = 0 THEN (%(big_units)s::bigint[])[1 + (g / 2) %% array_length(%(big_units)s::bigint[], 1)]
                ELSE (%(all_units)s::bigint[])[1 + (g / 2) %% array_length(%(all_units)s::bigint[], 1)] END AS unit_id,
           CASE WHEN g %% 2 = 0 THEN (%(big_offices)s::bigint[])[1 + (g / 2) %% array_length(%(big_units)s::bigint[], 1)]
                ELSE (%(all_offices)s::bigint[])[1 + (g / 2) %% array_length(%(all_units)s::bigint[], 1)] END AS office_id,
           (1 + (g %% 5))::int AS years,
           %(today)s::date - ((g * 7919) %% 3650)::int AS registered,
           CASE WHEN g %% 100 < 2 THEN 'pending_local' WHEN g %% 100 = 2 THEN 'pending_conac'
                WHEN g %% 100 = 3 THEN 'rejected' WHEN g %% 100 = 4 THEN 'awaiting_payment'
                WHEN g %% 100 = 5 THEN 'fee_marked' WHEN g %% 100 < 90 THEN 'active'
                WHEN g %% 100 < 98 THEN 'expired' ELSE 'deleted' END AS status
    FROM generate_series(1, %(n)s::bigint) AS g
) AS d
"""

SEED_MARKINGS = """
INSERT INTO billing_feemarking (public_id, office_id, unit_id, invoice_no, amount, marked_by_id, marked_at)
SELECT gen_random_uuid(), office_id, id, 'LOAD-' || id, 1000.00, %(user)s, now() - interval '400 days'
FROM registry_unit WHERE name LIKE %(prefix)s || '%%'
"""

# 24 monthly remittances per office that has units of the benchmark; the last two 待认款.
SEED_REMITTANCES = """
INSERT INTO billing_remittance
    (public_id, office_id, amount, remitted_on, voucher_no, note, status, registered_by_id, registered_at,
     confirmed_by_id, confirmed_at)
SELECT gen_random_uuid(), o.office_id, 10000.00, %(today)s::date - (30 * (24 - k)),
       'LOAD-' || o.office_id || '-' || k, '', CASE WHEN k > 22 THEN 'pending' ELSE 'confirmed' END, %(user)s,
       now() - make_interval(days => 30 * (24 - k)), CASE WHEN k <= 22 THEN %(user)s END,
       CASE WHEN k <= 22 THEN now() - make_interval(days => 30 * (24 - k) - 1) END
FROM (SELECT DISTINCT office_id FROM registry_unit WHERE name LIKE %(prefix)s || '%%') AS o,
     generate_series(1, 24) AS k
"""

# A registration charge for each domain past review; a renewal taken effect for every fifth active one.
SEED_CHARGES = """
WITH r AS (
    SELECT id, office_id, row_number() OVER (PARTITION BY office_id ORDER BY id) AS n
    FROM billing_remittance WHERE voucher_no LIKE 'LOAD-%%' AND status = 'confirmed'
), d AS (
    SELECT d.id, d.unit_id, d.office_id, d.years, d.status, d.registered_on, d.expires_on, m.id AS marking_id
    FROM registry_domain d JOIN registry_unit u ON u.id = d.unit_id
    JOIN billing_feemarking m ON m.unit_id = d.unit_id
    WHERE u.name LIKE %(prefix)s || '%%' AND d.status IN ('awaiting_payment', 'fee_marked', 'active', 'expired')
), c AS (
    SELECT d.*, 'registration' AS kind,
           CASE d.status WHEN 'awaiting_payment' THEN 'pending' WHEN 'fee_marked' THEN 'marked'
                ELSE 'consumed' END AS cstatus
    FROM d
    UNION ALL
    SELECT d.*, 'renewal', 'applied' FROM d WHERE d.status = 'active' AND d.id %% 5 = 0
)
INSERT INTO billing_charge
    (public_id, kind, domain_id, unit_id, office_id, years, unit_price, amount, status, created_at, marking_id,
     marked_at, remittance_id, consumed_at, effective_on, applied_at, previous_expiry)
SELECT gen_random_uuid(), c.kind, c.id, c.unit_id, c.office_id, c.years, 200.00, 200.00 * c.years, c.cstatus,
       now() - interval '420 days',
       CASE WHEN c.cstatus <> 'pending' THEN c.marking_id END,
       CASE WHEN c.cstatus <> 'pending' THEN now() - interval '410 days' END,
       CASE WHEN c.cstatus IN ('consumed', 'applied') THEN r.id END,
       CASE WHEN c.cstatus IN ('consumed', 'applied') THEN now() - interval '400 days' END,
       CASE WHEN c.cstatus IN ('consumed', 'applied') THEN coalesce(c.registered_on, current_date) END,
       CASE WHEN c.cstatus = 'applied' THEN now() - interval '30 days' END,
       CASE WHEN c.cstatus = 'applied' THEN c.expires_on - 365 * c.years END
FROM c LEFT JOIN r ON r.office_id = c.office_id AND r.n = 1 + (c.id %% 22)
"""

# Each office's confirmed remittances cover what it consumed, with a balance left over.
SEED_REMITTANCE_AMOUNTS = """
UPDATE billing_remittance r SET amount = ceil(s.spent / 22.0) + 5000.00
FROM (SELECT office_id, sum(amount) AS spent FROM billing_charge
      WHERE status IN ('consumed', 'applied') GROUP BY office_id) AS s
WHERE r.office_id = s.office_id AND r.voucher_no LIKE 'LOAD-%%'
"""

SEED_LEDGER = """
INSERT INTO billing_ledgerentry (office_id, kind, amount, balance_after, remittance_id, charge_id, created_at)
SELECT office_id, kind, amount, balance_after, remittance_id, charge_id, at FROM (
    SELECT office_id, 'credit' AS kind, amount,
           sum(amount) OVER (PARTITION BY office_id ORDER BY id) AS balance_after,
           id AS remittance_id, NULL::bigint AS charge_id, confirmed_at AS at, 0 AS phase, id AS seq
    FROM billing_remittance WHERE voucher_no LIKE 'LOAD-%%' AND status = 'confirmed'
    UNION ALL
    SELECT c.office_id, 'debit', c.amount,
           t.credited - sum(c.amount) OVER (PARTITION BY c.office_id ORDER BY c.id),
           NULL, c.id, c.consumed_at, 1, c.id
    FROM billing_charge c
    JOIN (SELECT office_id, sum(amount) AS credited FROM billing_remittance
          WHERE voucher_no LIKE 'LOAD-%%' AND status = 'confirmed' GROUP BY office_id) AS t
      ON t.office_id = c.office_id
    WHERE c.status IN ('consumed', 'applied')
) AS e ORDER BY phase, office_id, seq
"""

SEED_ACCOUNTS = """
INSERT INTO billing_officeaccount (office_id, balance, updated_at)
SELECT office_id, sum(CASE WHEN kind = 'debit' THEN -amount ELSE amount END), now()
FROM billing_ledgerentry GROUP BY office_id
ON CONFLICT (office_id) DO UPDATE SET balance = EXCLUDED.balance
"""


def pad(text, width):
    """Left-align on a terminal: a Chinese character takes two columns."""
    shown = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(1, width - shown)


class LoadGunicorn(Gunicorn):
    """bench_forwarding's gunicorn with the production defaults for connections and sessions."""

    def env(self):
        env = super().env()
        # The settings' own defaults (or the caller's environment) decide, not the benchmark.
        if "CONN_MAX_AGE" in os.environ:
            env["CONN_MAX_AGE"] = os.environ["CONN_MAX_AGE"]
        else:
            env.pop("CONN_MAX_AGE", None)
        env.update(
            {
                "SESSION_COOKIE_SECURE": "False",
                "CSRF_COOKIE_SECURE": "False",
                "STAFF_2FA_REQUIRED": "False",
                "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
            }
        )
        return env


def fetch(port, path, cookie=None, method="GET", body=None, headers=None):
    """(status, body) of one request over a fresh loopback connection."""
    conn = HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        sent = {"Host": SITE_HOST, **(headers or {})}
        if cookie:
            sent["Cookie"] = cookie
        conn.request(method, path, body=body, headers=sent)
        response = conn.getresponse()
        data = response.read()
        response.cookies = response.msg.get_all("Set-Cookie") or []
        fetch.last = response
        return response.status, data
    finally:
        conn.close()


def _cookie(set_cookies, name):
    for header in set_cookies:
        match = re.match(rf"\s*{name}=([^;]*)", header)
        if match:
            return match.group(1)
    return None


def login(port, user):
    """A real session: 登录 over HTTP with the user's password, as a browser does it."""
    status, body = fetch(port, "/login/")
    csrf = _cookie(fetch.last.cookies, "csrftoken")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    if status != 200 or not csrf or not token:
        raise CommandError(f"登录页 /login/ 返回 {status}，没有CSRF令牌。")
    form = urlencode({"csrfmiddlewaretoken": token.group(1).decode(), "username": user.username, "password": PASSWORD})
    status, body = fetch(
        port, "/login/", cookie=f"csrftoken={csrf}", method="POST", body=form,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    session = _cookie(fetch.last.cookies, "sessionid")
    if status != 302 or not session:
        raise CommandError(f"{user.username} 登录失败：{status} {body[:300]!r}")
    return f"sessionid={session}; csrftoken={csrf}"


LUA = """
local requests = {%(requests)s}
local threads = {}
local counter = 0
setup = function(thread)
  counter = counter + 1
  thread:set("offset", counter * 7)
  table.insert(threads, thread)
end
init = function(args)
  bad = 0
  i = offset or 0
end
request = function()
  i = i + 1
  local r = requests[(i %% #requests) + 1]
  local headers = {["Host"] = "%(host)s"}
  if r[2] ~= "" then headers["Cookie"] = r[2] end
  return wrk.format("GET", r[1], headers)
end
response = function(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end
done = function(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("bad") end
  io.write(string.format("BAD %%d\\n", total))
  io.write(string.format("P50 %%.3f\\n", latency:percentile(50) / 1000))
  io.write(string.format("P99 %%.3f\\n", latency:percentile(99) / 1000))
end
"""


class LuaWrk:
    """wrk with a Lua script that rotates (path, cookie) pairs and counts non-200 answers."""

    RPS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.M)
    ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")

    def __init__(self, wrk, threads, connections, tmp, port, timeout=10):
        self.wrk, self.threads, self.connections, self.tmp, self.port = wrk, threads, connections, tmp, port
        self.timeout = timeout

    def __call__(self, requests, duration):
        entries = ", ".join(f"{{{_lua(path)}, {_lua(cookie or '')}}}" for path, cookie in requests)
        script = self.tmp / "load.lua"
        script.write_text(LUA % {"requests": entries, "host": SITE_HOST}, encoding="utf-8")
        command = [
            self.wrk,
            f"-t{self.threads}",
            f"-c{self.connections}",
            f"-d{duration}s",
            "--timeout",
            f"{self.timeout}s",
        ]
        command += ["-s", str(script), f"http://127.0.0.1:{self.port}/"]
        done = subprocess.run(  # noqa: S603  # nosec B603: fixed argv, no shell
            command, capture_output=True, text=True, timeout=duration + 60, check=False
        )
        out = done.stdout
        rps = self.RPS.search(out)
        figures = dict(re.findall(r"^(BAD|P50|P99) ([\d.]+)$", out, re.M))
        if done.returncode != 0 or not rps or len(figures) != 3:
            raise CommandError(f"wrk失败：{done.stderr or out}")
        errors = self.ERRORS.search(out)
        return {
            "rps": float(rps.group(1)),
            "p50_ms": float(figures["P50"]),
            "p99_ms": float(figures["P99"]),
            "bad": int(float(figures["BAD"])) + (sum(int(n) for n in errors.groups()[:3]) if errors else 0),
            "timeouts": int(errors.group(4)) if errors else 0,
        }


def _lua(text):
    """A Lua string literal (paths and cookies are ASCII; anything else is escaped)."""
    return '"' + "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else f"\\{ord(ch):03d}" for ch in text) + '"'
