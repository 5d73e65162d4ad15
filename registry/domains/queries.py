"""Reading domains for the pages: the review queue's rows, 域名查询's filter, the Excel export.

Each function runs a fixed number of SQL queries whatever the number of rows.
"""

import time

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import BooleanField, Count, F, Q, Window
from django.db.models.expressions import RawSQL
from django.db.models.functions import RowNumber
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import QueryDict
from django.utils import timezone

from conac import exports, hotcache
from conac.workdays import WorkdayCalendar, as_date
from registry.organisations.models import Office
from registry.organisations.validators import credit_code_category, kind_mismatch

from . import names
from .forms import DomainSearchForm
from .models import Domain, ReservedName

OFFICE_DEADLINE_WORKDAYS = 5  # the 编办's online review is due within 5 working days
SIMILAR_PER_ROW = 8
OTHERS_PER_ROW = 10
OTHERS_COUNT_LIMIT = 1000


# --- Scope: an office's subtree as office ids ----------------------------------------------
#
# An office sees its own units' domains and, read-only, those of the offices below it (by region
# code prefix). As a join on registry_office.code LIKE '11%' the composite indexes that start
# with office_id, e.g. (office_id, expires_on, id), are never used; as office_id IN (…) they are.
# The subtree is small (a province has a few hundred offices) and changes about once a year, so
# each process keeps it: dropped when an office is saved or deleted anywhere (a version in the
# shared cache, conac.hotcache) and, as a backstop for a process that changed offices without
# this module loaded, after OFFICE_SCOPE_TTL seconds.

OFFICE_TREE_VERSION = "registry:office-tree-version"
OFFICE_SCOPE_TTL = 300
EVERYTHING = "all"
_office_scopes = hotcache.VersionedTable(OFFICE_TREE_VERSION, interval=1.0, max_entries=10_000, name="office scopes")


def office_ids_in_scope(office_id):
    """The ids of the office and every office below it, or EVERYTHING for 中央编办 (its scope is all)."""
    now = time.monotonic()
    entry = _office_scopes.peek(office_id)
    if entry is hotcache.MISSING or entry[0] < now:
        entry = _office_scopes.fill(office_id, lambda: (now + OFFICE_SCOPE_TTL, _load_scope(office_id)))
    return entry[1]


def _load_scope(office_id):
    prefix = Office.objects.filter(pk=office_id).values_list("scope_prefix", flat=True).first()
    if prefix is None:
        return ()
    if not prefix:
        return EVERYTHING
    return tuple(Office.objects.filter(code__startswith=prefix).order_by("pk").values_list("pk", flat=True))


@receiver(post_save, sender=Office, dispatch_uid="registry.domains.office_tree_changed.save")
@receiver(post_delete, sender=Office, dispatch_uid="registry.domains.office_tree_changed.delete")
def _office_tree_changed(**kwargs):
    _office_scopes.clear()  # this process at once
    hotcache.bump(OFFICE_TREE_VERSION)  # the others within a second
    transaction.on_commit(lambda: hotcache.bump(OFFICE_TREE_VERSION))  # and for a reload that raced the commit


def visible_domains(user, queryset=None):
    """``Domain.objects.visible_to(user)`` with an office's scope as ``office_id IN (…)``: the same rows."""
    queryset = Domain.objects.all() if queryset is None else queryset
    if getattr(user, "role", None) == "office" and user.office_id:
        ids = office_ids_in_scope(user.office_id)
        if ids == EVERYTHING:
            return queryset
        return queryset.filter(office_id__in=ids)
    return queryset.visible_to(user)


# --- The review queues ------------------------------------------------------------------------


def queue_rows(domains, *, flag_overdue, today=None):
    """What a reviewer needs beside each waiting application (5 queries for any page).

    Each row's ``conflicts`` come first: the name itself or one of its simplified/traditional
    variants already taken (registered, in review, …) by another unit, with its state and
    owner, or reserved by CONAC. ``similar`` are the other alike live names (longer names
    beginning with it, names it begins with); ``variants`` all the spellings, for the folded list.
    """
    today = today or timezone.localdate()
    domains = list(domains)
    if not domains:
        return []
    variants = {d.pk: names.variants_of(d.label) for d in domains}
    reserved = list(
        ReservedName.objects.filter(
            _label_in({d.label for d in domains}.union(*variants.values()), ReservedName._meta.db_table)
        ).order_by("label", "suffix")
    )
    prefixes = {d.pk: {d.label[:k] for k in range(2, len(d.label))} for d in domains}

    condition = _label_in({d.label for d in domains}.union(*variants.values(), *prefixes.values()))
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
    for other in _first_domains_of(unit_ids, OTHERS_PER_ROW + 1):
        others.setdefault(other.unit_id, []).append(other)
    unit_counts = _domain_counts(unit_ids, OTHERS_COUNT_LIMIT + 2)  # itself, and one past the limit

    # The pool by label (a few hundred names): each row looks its spellings up instead of
    # comparing every name of the pool with each of its sixty-odd variants.
    pool = [(s.label, s.unit_id, s) for s in similar_pool]
    by_label = {}
    for label, unit_id, s in pool:
        by_label.setdefault(label, []).append((unit_id, s))
    calendar = WorkdayCalendar().load(min(d.submitted_at for d in domains), today)
    # A page's applications were mostly sent on a few days: count each day's wait once.
    waits = {}
    rows = []
    for d in domains:
        spellings = variants[d.pk] | {d.label}
        conflicts = [
            s for label in sorted(spellings & by_label.keys()) for unit_id, s in by_label[label] if unit_id != d.unit_id
        ][:SIMILAR_PER_ROW]
        similar = [
            s
            for label, unit_id, s in pool
            if unit_id != d.unit_id
            and label not in spellings
            and (label.startswith(d.label) or label in prefixes[d.pk])
        ][: max(0, SIMILAR_PER_ROW - len(conflicts))]
        others_count = unit_counts.get(d.unit_id, 1) - 1
        submitted_on = as_date(d.submitted_at)
        if submitted_on not in waits:
            waits[submitted_on] = calendar.workdays_between(submitted_on, today)
        waited = waits[submitted_on]
        others_here = [o for o in others.get(d.unit_id, []) if o.pk != d.pk][:OTHERS_PER_ROW]
        rows.append(
            {
                "domain": d,
                "category": credit_code_category(d.unit.credit_code),
                "kind_note": kind_mismatch(d.unit.credit_code, d.unit.kind),
                "variants": sorted(variants[d.pk]),
                "conflicts": conflicts,
                "reserved": [r for r in reserved if r.label in spellings and r.suffix in ("", d.suffix)],
                "similar": similar,
                "others": others_here,
                "others_count": min(others_count, OTHERS_COUNT_LIMIT),
                "others_count_capped": others_count > OTHERS_COUNT_LIMIT,
                "waited_workdays": waited,
                "waited_days": (today - timezone.localtime(d.submitted_at).date()).days,
                "overdue": flag_overdue and waited > OFFICE_DEADLINE_WORKDAYS,
            }
        )
    return rows


# label = ANY(array) per table: fixed SQL, the labels are the one parameter.
_LABEL_ANY = {
    "registry_domain": '"registry_domain"."label" = ANY(%s::varchar[])',
    "registry_reservedname": '"registry_reservedname"."label" = ANY(%s::varchar[])',
}


def _label_in(labels, table="registry_domain"):
    """``label IN (…)`` for a page's 1,500-odd spellings: on PostgreSQL ``label = ANY(array)`` with
    one parameter (the same index probes), since psycopg parses and sends each of 1,500
    placeholders on every page view (20 ms of CPU)."""
    if connection.vendor == "postgresql":
        condition = RawSQL(_LABEL_ANY[table], (sorted(labels),), output_field=BooleanField())  # noqa: S611  # nosec B611
        return Q(condition)
    return Q(label__in=labels)


def _domain_counts(unit_ids, limit):
    """How many domains each unit holds, counted up to ``limit`` (index-only, a unit's thousands
    of domains are not all visited: the row says “1,000个以上”)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT u.id, (SELECT count(*) FROM (SELECT 1 FROM registry_domain d WHERE d.unit_id = u.id"
                " LIMIT %s) AS s) FROM unnest(%s::bigint[]) AS u(id)",
                [limit, sorted(unit_ids)],
            )
            return dict(cursor.fetchall())
    return dict(
        Domain.objects.filter(unit_id__in=unit_ids)
        .values("unit_id")
        .annotate(n=Count("id"))
        .values_list("unit_id", "n")
    )


def _first_domains_of(unit_ids, count):
    """The first ``count`` domains by name of each unit: on PostgreSQL read in order from the
    (unit_id, label) index, a few rows per unit however many domains the unit holds."""
    if connection.vendor == "postgresql":
        return Domain.objects.raw(
            "SELECT d.id, d.label, d.suffix, d.status, d.unit_id, d.expires_on "
            "FROM unnest(%s::bigint[]) AS u(id) CROSS JOIN LATERAL ("
            "  SELECT id, label, suffix, status, unit_id, expires_on FROM registry_domain"
            "  WHERE unit_id = u.id ORDER BY label LIMIT %s) AS d",
            [sorted(unit_ids), count],
        )
    return (
        Domain.objects.filter(unit_id__in=unit_ids)
        .annotate(rank=Window(RowNumber(), partition_by=[F("unit_id")], order_by=[F("label").asc()]))
        .filter(rank__lte=count)
        .only("label", "suffix", "status", "unit_id", "expires_on")
    )


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
    if data.get("province"):
        queryset = queryset.filter(office__code__startswith=data["province"])
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
    return export_table(search(visible_domains(owner), form.cleaned_data))
