"""Benchmark: renew N domains in one submission, mark them paid and confirm one remittance
that consumes all N renewal charges; print the seconds and SQL statements of each step.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/conac_bench \\
        python manage.py bench_billing --domains 10000

It works on data of its own (a unit and staff named “基准测试”, N domains of 海淀区's office)
inside one transaction that is rolled back at the end, so it leaves nothing behind: the
ledger is append-only, and committed benchmark money could not be taken out again.
"""

import datetime
import time
import unicodedata
import uuid
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from billing import jobs, services
from billing.models import C, Charge
from registry.models import Domain, DomainStatus, Office, Region, Unit, UnitKind, UnitLevel, User
from registry.organisations.regions import load_regions
from registry.organisations.validators import credit_code_check_char, org_code_check_char

BENCH_NAME = "基准测试收费单位"
OFFICE_CODE = "110108"


class Rollback(Exception):
    """Raised at the end to undo everything the benchmark wrote."""


class Command(BaseCommand):
    help = "基准测试：N个域名续费、确认收费、认款消费及续费生效的耗时和SQL语句数（运行后回滚，不留数据）"

    def add_arguments(self, parser):
        parser.add_argument("--domains", type=int, default=10_000, help="域名数量，默认10000")
        parser.add_argument("--years", type=int, default=1, help="续费年限，默认1")

    def handle(self, *args, **options):
        count, years = options["domains"], options["years"]
        if count < 1:
            raise CommandError("域名数量须大于0")
        if not Office.objects.filter(code=OFFICE_CODE).exists():
            load_regions()
        self.rows = []
        try:
            with transaction.atomic():
                self.run(count, years)
                raise Rollback
        except Rollback:
            pass
        self.stdout.write(f"基准测试：{count:,} 个域名，续费{years}年（数据库：{connection.vendor}；已回滚，未留数据）")
        width = max(_display_width(label) for label, _, _ in self.rows)
        for label, seconds, statements in self.rows:
            padding = " " * (width - _display_width(label))
            self.stdout.write(f"  {label}{padding}  {seconds:8.2f} 秒  SQL {statements:>6,} 条")

    def step(self, label, call):
        statements = 0

        def count(execute, sql, params, many, context):
            nonlocal statements
            statements += 1
            return execute(sql, params, many, context)

        # Every statement sent, however many (the debug query log keeps only the last 9,000).
        with connection.execute_wrapper(count):
            started = time.perf_counter()
            result = call()
            seconds = time.perf_counter() - started
        self.rows.append((label, seconds, statements))
        return result

    def run(self, count, years):
        tag = uuid.uuid4().hex[:8]
        office = Office.objects.get(code=OFFICE_CODE)
        unit = self.bench_unit(office, tag)
        office_user = User.objects.create(username=f"bench-office-{tag}", role=User.Role.OFFICE, office=office)
        conac_user = User.objects.create(username=f"bench-conac-{tag}", role=User.Role.CONAC)
        today = timezone.localdate()
        # Expiring within the month, so any renewal of up to 9 years stays inside the 10-year cap.
        expires_on = today + datetime.timedelta(days=20)

        ids = self.step(
            f"生成{count:,}个注册成功的域名（bulk_create）", lambda: self.seed(unit, count, tag, expires_on)
        )
        created, skipped = self.step(
            "提交续费申请 submit_renewals",
            lambda: services.submit_renewals(ids, years=years, actor=office_user, today=today),
        )
        if len(created) != count or skipped:
            raise CommandError(f"续费申请只生成了{len(created)}笔消费：{list(skipped.items())[:3]}")
        total = sum((c.amount for c in created), Decimal("0.00"))
        self.step(
            "确认收费 mark_fees_paid",
            lambda: services.mark_fees_paid(
                unit, charge_ids=[c.pk for c in created], invoice_no=f"BENCH-{tag}", amount=total, actor=office_user
            ),
        )
        remittance = services.register_remittance(
            office, amount=total, remitted_on=today, voucher_no=f"BENCH-{tag}", actor=office_user, today=today
        )
        summary = self.step(
            "认款 confirm_remittance（消费全部续费）",
            lambda: services.confirm_remittance(remittance, actor=conac_user),
        )
        if summary["consumed_count"] != count:
            raise CommandError(f"认款只消费了{summary['consumed_count']}笔")
        effective_on = summary["effective_on"]
        renewed = self.step(
            f"每日任务 续费生效（{effective_on:%Y-%m-%d}）",
            lambda: jobs.apply_due_renewals(effective_on),
        )
        if renewed < count or Charge.objects.filter(remittance=remittance, status=C.APPLIED).count() != count:
            raise CommandError("续费未全部生效")

    def bench_unit(self, office, tag):
        region = office.region or Region.objects.get(code=OFFICE_CODE)
        org = f"{int(tag[:6], 16) % 100_000_000:08d}"
        body = f"11{region.code}{org}{org_code_check_char(org)}"
        return Unit.objects.create(
            name=f"{BENCH_NAME}{tag}", kind=UnitKind.ORGAN, credit_code=body + credit_code_check_char(body),
            region=region, level=UnitLevel.COUNTY, office=office, address="基准路1号", leader="甲", contact="乙",
            contact_mobile="+8613800138000", contact_email="bench@example.cn", handler="丙",
            handler_id_number="11010519491231002X",
        )  # fmt: skip

    def seed(self, unit, count, tag, expires_on):
        now = timezone.now()
        Domain.objects.bulk_create(
            [
                Domain(
                    unit=unit, office_id=unit.office_id, label=f"基准续费{tag}{i}", alabel=f"bench-{tag}-{i}",
                    suffix=".政务", years=1, status=DomainStatus.ACTIVE,
                    registered_on=expires_on - datetime.timedelta(days=365), expires_on=expires_on, submitted_at=now,
                )
                for i in range(count)
            ],
            batch_size=5000,
        )  # fmt: skip
        return list(Domain.objects.filter(unit=unit).values_list("pk", flat=True))


def _display_width(text):
    """Columns on a terminal: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
