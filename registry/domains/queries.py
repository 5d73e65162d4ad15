"""Reading domains for the pages: the review queue's rows, 域名查询's filter, the Excel export.

Each function runs a fixed number of SQL queries whatever the number of rows.
"""

from django.core.exceptions import ValidationError
from django.db.models import Count, F, Q, Window
from django.db.models.functions import RowNumber
from django.http import QueryDict
from django.utils import timezone

from conac import exports
from conac.workdays import WorkdayCalendar
from registry.organisations.validators import credit_code_category, kind_mismatch

from . import names
from .forms import DomainSearchForm
from .models import Domain

OFFICE_DEADLINE_WORKDAYS = 5  # the 编办's online review is due within 5 working days
SIMILAR_PER_ROW = 8
OTHERS_PER_ROW = 10


def queue_rows(domains, *, flag_overdue, today=None):
    """What a reviewer needs beside each waiting application (4 queries for any page)."""
    today = today or timezone.localdate()
    domains = list(domains)
    if not domains:
        return []
    variants = {d.pk: names.variants_of(d.label) for d in domains}
    prefixes = {d.pk: {d.label[:k] for k in range(2, len(d.label))} for d in domains}

    condition = Q(label__in={d.label for d in domains}.union(*variants.values(), *prefixes.values()))
    for d in domains:
        condition |= Q(label__startswith=d.label)
    # Items on the same page are compared with each other too: two units asking for alike
    # names in the same week is exactly what the reviewer must see.
    similar_pool = list(
        Domain.objects.live()
        .filter(condition)
        .select_related("unit")
        .only("label", "suffix", "status", "unit__name", "unit_id")
        .order_by("label")[:500]
    )
    # The unit's other domains, its other waiting applications included: the first few per
    # unit (one more, as each row leaves itself out), and how many in all (2 queries).
    unit_ids = {d.unit_id for d in domains}
    others = {}
    ranked = (
        Domain.objects.filter(unit_id__in=unit_ids)
        .annotate(rank=Window(RowNumber(), partition_by=[F("unit_id")], order_by=[F("label").asc()]))
        .filter(rank__lte=OTHERS_PER_ROW + 1)
        .only("label", "suffix", "status", "unit_id", "expires_on")
    )
    for other in ranked:
        others.setdefault(other.unit_id, []).append(other)
    unit_counts = dict(
        Domain.objects.filter(unit_id__in=unit_ids)
        .values("unit_id")
        .annotate(n=Count("id"))
        .values_list("unit_id", "n")
    )

    calendar = WorkdayCalendar().load(min(d.submitted_at for d in domains), today)
    rows = []
    for d in domains:
        similar = [
            s
            for s in similar_pool
            if s.unit_id != d.unit_id
            and (
                s.label == d.label
                or s.label in variants[d.pk]
                or s.label.startswith(d.label)
                or s.label in prefixes[d.pk]
            )
        ][:SIMILAR_PER_ROW]
        waited = calendar.workdays_between(d.submitted_at, today)
        rows.append(
            {
                "domain": d,
                "category": credit_code_category(d.unit.credit_code),
                "kind_note": kind_mismatch(d.unit.credit_code, d.unit.kind),
                "variants": sorted(variants[d.pk]),
                "similar": similar,
                "others": [o for o in others.get(d.unit_id, []) if o.pk != d.pk][:OTHERS_PER_ROW],
                "others_count": unit_counts.get(d.unit_id, 1) - 1,
                "waited_workdays": waited,
                "waited_days": (today - timezone.localtime(d.submitted_at).date()).days,
                "overdue": flag_overdue and waited > OFFICE_DEADLINE_WORKDAYS,
            }
        )
    return rows


def search(queryset, data):
    """域名查询's filters on a scoped queryset; ``data`` is DomainSearchForm.cleaned_data."""
    term = (data.get("domain") or "").strip()
    if term:
        queryset = queryset.filter(domain_term_q(term))
    unit_name = (data.get("unit_name") or "").strip()
    if unit_name:
        queryset = queryset.filter(unit__name__contains=unit_name)
    if data.get("status"):
        queryset = queryset.filter(status=data["status"])
    start, end = data.get("expires_from"), data.get("expires_to")
    if start:
        queryset = queryset.filter(expires_on__gte=start)
    if end:
        queryset = queryset.filter(expires_on__lte=end)
    if start or end:
        return queryset.order_by("expires_on", "id")
    return queryset.order_by("-id")


def domain_term_q(term):
    """A 域名 as typed: Unicode or A-label, with or without its suffix; a prefix matches."""
    term = term.strip().rstrip(".")
    suffix_q = Q()
    for suffix, suffix_alabel in names.SUFFIXES.items():
        for tail in (suffix, "。" + suffix[1:], "." + suffix_alabel):
            if term.lower().endswith(tail):
                term = term[: -len(tail)]
                suffix_q = Q(suffix=suffix)
                break
    if term.lower().startswith("xn--") or term.isascii():
        ascii_term = term.lower()
        return suffix_q & (Q(alabel__startswith=ascii_term) | Q(label__startswith=ascii_term))
    try:
        term = names.normalize_label(term)
    except ValidationError:
        term = term.strip()  # a half-typed name still searches as typed
    return suffix_q & Q(label__startswith=term)


EXPORT_COLUMNS = ["域名", "英文编码", "单位名称", "同级编办", "状态", "注册年限", "注册日期", "到期时间", "申请时间"]
EXPORT_CHUNK_ROWS = 2000


def export_table(queryset):
    """The rows of 域名查询 as an export table (``conac.exports``): read lazily, in chunks.

    Memory stays flat however many rows: the database hands them over ``EXPORT_CHUNK_ROWS``
    at a time (a server-side cursor on PostgreSQL) and the writer streams each row to its file.
    """
    labels = dict(Domain._meta.get_field("status").choices)
    values = queryset.values_list(
        "label", "suffix", "alabel", "unit__name", "office__name", "status", "years", "registered_on",
        "expires_on", "created_at",
    )  # fmt: skip

    def rows():
        china = timezone.get_current_timezone()  # localtime() per row would cost as much as the rest of it
        for row in values.iterator(chunk_size=EXPORT_CHUNK_ROWS):
            label, suffix, alabel, unit_name, office_name, status, years, registered, expires, created = row
            yield [
                f"{label}{suffix}",
                f"{alabel}.{names.SUFFIXES.get(suffix, '')}",
                unit_name,
                office_name,
                labels.get(status, status),
                years,
                registered,
                expires,
                created.astimezone(china) if created else None,
            ]

    return exports.Table(title="域名查询", columns=EXPORT_COLUMNS, rows=rows(), count=queryset.count)


def export_xlsx(queryset):
    """The rows of 域名查询 as an .xlsx file (``conac.spreadsheets``: user text as inert text)."""
    return exports.write_xlsx(export_table(queryset))


@exports.source(title="域名查询")
def domain_search_export(owner, parameters):
    """导出Excel of 域名查询 as a job: the page's query, in the owner's scope, as on the page."""
    form = DomainSearchForm(QueryDict(parameters.get("query", "")))
    if not form.is_valid():
        raise exports.ExportError("查询条件有误，请修改后重新导出。")
    return export_table(search(Domain.objects.visible_to(owner), form.cleaned_data))
