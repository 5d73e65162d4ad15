"""对账报表: per office, what was marked, remitted, confirmed, consumed and what is left.

Every figure is an aggregate grouped by office: the report costs the same few queries
for one office or for every office in the country. The check the issue asks for holds
per office and in total: 已认款 = 已消费 + 余额 (and the ledger's credits = 已认款).

已消费 is net of 已退回: a consumed charge whose period never started (its domain deleted
first) is credited back to the balance, so it is no longer spent. Every charge ever
marked is in exactly one of 已收费未消费, 已消费, 待退费 and 已退费.
"""

import time
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Q, Sum

from conac.spreadsheets import SheetWriter
from registry.models import Office

from .models import C, Charge, LedgerEntry, OfficeAccount, Remittance, RemittanceStatus
from .money import ZERO, yuan

# Every charge that was ever marked (确认收费), whatever happened to it afterwards.
EVER_MARKED = [C.MARKED, C.CONSUMED, C.APPLIED, C.REFUND_PENDING, C.REFUNDED]

FIGURES = [
    ("marked_total", "已收费总额"),
    ("remitted_total", "汇款总额"),
    ("confirmed_total", "已认款"),
    ("consumed_total", "已消费"),
    ("balance", "余额"),
    ("unconsumed_total", "已收费未消费"),
    ("refund_pending_total", "待退费"),
    ("refunded_total", "已退费"),
    ("returned_total", "已退回"),
]


@dataclass
class Line:
    """One office's figures (or the totals, with ``office`` None)."""

    office: Office | None
    marked_total: Decimal = ZERO
    remitted_total: Decimal = ZERO
    confirmed_total: Decimal = ZERO
    consumed_total: Decimal = ZERO
    balance: Decimal = ZERO
    unconsumed_total: Decimal = ZERO
    refund_pending_total: Decimal = ZERO
    refunded_total: Decimal = ZERO  # paid back to units (退费)
    returned_total: Decimal = ZERO  # consumed money credited back to the balance (退回)
    credited_total: Decimal = ZERO  # the ledger's credits: must equal 已认款
    pending_remittance_total: Decimal = ZERO

    @property
    def balanced(self):
        return (
            self.confirmed_total == self.consumed_total + self.balance and self.credited_total == self.confirmed_total
        )

    @property
    def difference(self):
        return self.confirmed_total - self.consumed_total - self.balance

    def figures(self):
        return [(label, getattr(self, name)) for name, label in FIGURES]


@dataclass
class Report:
    lines: list = field(default_factory=list)
    total: Line = field(default_factory=lambda: Line(office=None))

    @property
    def balanced(self):
        return self.total.balanced and all(line.balanced for line in self.lines)


# The report sums every charge and ledger line (millions, nationally: seconds of CPU). It is
# computed once per change of the money tables, not once per page view: the cache key carries
# the highest id of the audit log (every state change writes an audit entry in its own
# transaction) and of each money table (rows added any other way). A change that commits after
# a later-numbered one is seen within REPORT_CACHE_SECONDS at the latest.
REPORT_CACHE_SECONDS = 60


_recent = {}  # this process's recent reports: key → (monotonic deadline, report); unpickling costs too


def reconciliation(office=None):
    """The report for one office, or (``office`` None) for every office that has money figures."""
    key = f"billing:reconciliation:{office.pk if office is not None else 'all'}:{_money_stamp()}"
    now = time.monotonic()
    deadline, report = _recent.get(key, (0, None))
    if report is not None and deadline > now:
        return report
    report = cache.get(key)
    if report is None:
        report = _reconciliation(office)
        cache.set(key, report, REPORT_CACHE_SECONDS)
    if len(_recent) >= 256:
        _recent.clear()
    _recent[key] = (now + REPORT_CACHE_SECONDS, report)
    return report


def _money_stamp():
    """One cheap query (each a backward step on a primary key): what moves when money moves."""
    with connection.cursor() as cursor:
        cursor.execute(MONEY_STAMP_SQL)
        return "-".join(str(value or 0) for value in cursor.fetchone())


MONEY_STAMP_SQL = (
    "SELECT (SELECT max(id) FROM conac_auditentry), (SELECT max(id) FROM billing_charge), "
    "(SELECT max(id) FROM billing_ledgerentry), (SELECT max(id) FROM billing_remittance), "
    "(SELECT max(id) FROM billing_refund), (SELECT max(id) FROM billing_feemarking)"
)


def _reconciliation(office):
    scope = {"office_id": office.pk} if office is not None else {}
    lines = {}

    def line(office_id):
        if office_id not in lines:
            lines[office_id] = Line(office=None)
        return lines[office_id]

    charges = (
        Charge.objects.filter(status__in=EVER_MARKED, **scope)
        .values("office_id")
        .annotate(
            marked=Sum("amount"),
            unconsumed=Sum("amount", filter=Q(status=C.MARKED)),
            refund=Sum("amount", filter=Q(status=C.REFUND_PENDING)),
            refunded=Sum("amount", filter=Q(status=C.REFUNDED)),
        )
        .order_by()
    )
    for row in charges:
        target = line(row["office_id"])
        target.marked_total = _money(row["marked"])
        target.unconsumed_total = _money(row["unconsumed"])
        target.refund_pending_total = _money(row["refund"])
        target.refunded_total = _money(row["refunded"])

    remittances = (
        Remittance.objects.filter(**scope)
        .values("office_id")
        .annotate(
            remitted=Sum("amount"),
            confirmed=Sum("amount", filter=Q(status=RemittanceStatus.CONFIRMED)),
            pending=Sum("amount", filter=Q(status=RemittanceStatus.PENDING)),
        )
        .order_by()
    )
    for row in remittances:
        target = line(row["office_id"])
        target.remitted_total = _money(row["remitted"])
        target.confirmed_total = _money(row["confirmed"])
        target.pending_remittance_total = _money(row["pending"])

    ledger = (
        LedgerEntry.objects.filter(**scope)
        .values("office_id")
        .annotate(
            debits=Sum("amount", filter=Q(kind=LedgerEntry.Kind.DEBIT)),
            credits=Sum("amount", filter=Q(kind=LedgerEntry.Kind.CREDIT)),
            returns=Sum("amount", filter=Q(kind=LedgerEntry.Kind.RETURN)),
        )
        .order_by()
    )
    for row in ledger:
        target = line(row["office_id"])
        target.returned_total = _money(row["returns"])
        target.consumed_total = yuan(_money(row["debits"]) - target.returned_total)
        target.credited_total = _money(row["credits"])

    for office_id, balance in OfficeAccount.objects.filter(**scope).values_list("office_id", "balance"):
        line(office_id).balance = _money(balance)

    if office is not None:
        line(office.pk)  # an office with no money yet still sees its own (empty) line
        offices = {office.pk: office}
    else:
        offices = Office.objects.filter(pk__in=list(lines)).only("code", "name").in_bulk()
    report = Report()
    for office_id, target in lines.items():
        target.office = offices[office_id]
        report.lines.append(target)
    report.lines.sort(key=lambda target: target.office.code)
    for name in [*dict(FIGURES), "credited_total", "pending_remittance_total"]:
        setattr(report.total, name, yuan(sum((getattr(target, name) for target in report.lines), ZERO)))
    return report


def within_province(report, prefix):
    """The report for the offices whose code starts with ``prefix`` (a province's office and every
    office under it, as 首页's charts group them), with its own totals."""
    narrowed = Report(lines=[line for line in report.lines if line.office.code.startswith(prefix)])
    for name in [*dict(FIGURES), "credited_total", "pending_remittance_total"]:
        setattr(narrowed.total, name, yuan(sum((getattr(line, name) for line in narrowed.lines), ZERO)))
    return narrowed


def charges_by_status(office):
    """The office's charges counted and summed by status (one query)."""
    labels = dict(C.choices)
    rows = Charge.objects.filter(office=office).values("status").annotate(n=Count("id"), total=Sum("amount")).order_by()
    found = {row["status"]: row for row in rows}
    return [
        {
            "status": status,
            "label": labels[status],
            "count": found[status]["n"],
            "total": _money(found[status]["total"]),
        }
        for status in C.values
        if status in found
    ]


def _money(value):
    return yuan(value) if value is not None else ZERO


EXPORT_COLUMNS = ["编办编码", "编办", *[label for _, label in FIGURES], "已认款 = 已消费 + 余额"]


def export_xlsx(report):
    """The report as an .xlsx file (write-only workbook, streamed to a temporary file)."""
    with SheetWriter("对账报表", EXPORT_COLUMNS) as sheet:
        for target in report.lines:
            sheet.append(_export_row(target.office.code, target.office.name, target))
        sheet.append(_export_row("", "合计", report.total))
    return sheet.file  # FileResponse closes it once sent


def _export_row(code, name, target):
    return [code, name, *[value for _, value in target.figures()], "平衡" if target.balanced else "不平衡"]
