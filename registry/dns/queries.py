"""What the 域名解析 and 解析审核 pages show: one row per record as the unit sees it."""

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.utils import timezone

from conac.models import AuditEntry

from .models import ChangeAction, ChangeStatus, DnsChange, DnsRecord, RecordType, ZoneState

REJECTED_VISIBLE_DAYS = 30


@dataclass
class Row:
    """A line of 域名解析: an effective record, or a request not (yet) in service."""

    shown: object  # the DnsRecord or DnsChange whose values are displayed
    state: str
    record: DnsRecord | None = None
    pending: DnsChange | None = None
    note: str = ""
    reason: str = ""

    @property
    def can_change(self):
        return self.record is not None and self.pending is None


def record_rows(domain, *, now=None):
    now = now or timezone.now()
    records = list(DnsRecord.objects.effective().filter(domain=domain).order_by("host", "rtype", "id"))
    changes = list(
        DnsChange.objects.filter(domain=domain)
        .filter(
            Q(status=ChangeStatus.PENDING)
            | Q(status=ChangeStatus.REJECTED, updated_at__gte=now - timedelta(days=REJECTED_VISIBLE_DAYS))
        )
        .order_by("-submitted_at", "-id")
    )
    pending = {c.record_id: c for c in changes if c.status == ChangeStatus.PENDING and c.record_id}
    rejected = {}
    for change in changes:
        if change.status == ChangeStatus.REJECTED and change.record_id:
            rejected.setdefault(change.record_id, change)
    rows = []
    for record in records:
        change = pending.get(record.pk)
        if change and change.action == ChangeAction.DELETE:
            rows.append(Row(record, "待删除", record=record, pending=change))
        elif change:
            rows.append(
                Row(record, "已生效", record=record, pending=change, note=f"修改待审核：{change.value_display}")
            )
        else:
            last = rejected.get(record.pk)
            note = f"{last.get_action_display()}申请审核不通过" if last else ""
            rows.append(Row(record, "已生效", record=record, note=note, reason=last.rejection_reason if last else ""))
    for change in changes:
        if change.action != ChangeAction.ADD:
            continue
        if change.status == ChangeStatus.PENDING:
            rows.append(Row(change, "待审核", pending=change))
        elif change.status == ChangeStatus.REJECTED:
            rows.append(Row(change, "审核不通过", reason=change.rejection_reason))
    rows.sort(key=lambda row: (row.shown.host != "@", row.shown.host, row.shown.rtype))
    return rows


def delegation_state(domain, min_ns):
    """(effective NS count, pending NS count) at @: the page explains what delegation does."""
    effective = DnsRecord.objects.effective().filter(domain=domain, rtype=RecordType.NS).count()
    waiting = DnsChange.objects.pending().filter(domain=domain, rtype=RecordType.NS, action=ChangeAction.ADD).count()
    return {"effective": effective, "pending": waiting, "active": effective >= min_ns, "min": min_ns}


def dns_history(domain, limit=50):
    """The 办理记录 of the domain's records and requests, newest first."""
    record_ids = [str(pk) for pk in DnsRecord.objects.filter(domain=domain).values_list("pk", flat=True)]
    change_ids = [str(pk) for pk in DnsChange.objects.filter(domain=domain).values_list("pk", flat=True)]
    types = ContentType.objects.get_for_models(DnsRecord, DnsChange)
    return list(
        AuditEntry.objects.filter(
            Q(content_type=types[DnsRecord], object_id__in=record_ids)
            | Q(content_type=types[DnsChange], object_id__in=change_ids)
        )
        .select_related("actor")
        .order_by("-created_at", "-id")[:limit]
    )


def review_queue():
    return DnsChange.objects.pending().select_related("domain", "unit", "record").order_by("submitted_at", "id")


def zone_states():
    return list(ZoneState.objects.order_by("zone"))
