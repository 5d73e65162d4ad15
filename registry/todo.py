"""What registry puts on each role's home page (``conac.todo``): domains to review, names about
to expire, DNS changes to review, a unit's domains by state, and CONAC's backlog per province.

Each count links to the page that lists exactly those rows; each provider runs a fixed
number of queries whatever the data.
"""

from urllib.parse import urlencode

from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import Substr
from django.urls import reverse

from conac import todo
from review.models import Decision, Outcome, Tier
from review.services import queue_for

from .dns.models import DnsChange
from .domains import progress
from .domains.models import Domain, DomainStatus
from .domains.queries import OFFICE_DEADLINE_WORKDAYS
from .organisations.models import Office, Region

S = DomainStatus
CENTRAL = Office.ROOT_CODE[:2]  # 中央编办's code starts "00"; no region does


def search_url(**query):
    """域名查询 with these filters, as its own form would send them."""
    return f"{reverse('registry:domain-search')}?{urlencode(query)}"


def province_labels():
    """Two-digit province code → name, 中央编办 first (one query)."""
    labels = {CENTRAL: "中央编办"}
    for code, name in Region.objects.filter(level=Region.Level.PROVINCE).order_by("code").values_list("code", "name"):
        labels[code[:2]] = name
    return labels


def province_name(code):
    """The name of the province with this two-digit code ("00": 中央编办), or "" (one query)."""
    if code == CENTRAL:
        return "中央编办"
    return (
        Region.objects.filter(code=f"{code}0000", level=Region.Level.PROVINCE).values_list("name", flat=True).first()
        or ""
    )


def _expiring_item(count, today, *, order):
    until = progress.expiring_until(today)
    return todo.Item(
        label=f"{progress.EXPIRING_DAYS}天内到期",
        count=count,
        url=search_url(status=S.ACTIVE, expires_from=today.isoformat(), expires_to=until.isoformat()),
        note=f"到期时间在 {until:%Y-%m-%d} 之前，请通知单位续费",
        order=order,
    )


def office_items(user, today):
    """编办: 待审核域名 (and how many are past 5 working days), domains expiring within 30 days."""
    late_before = todo.overdue_before(OFFICE_DEADLINE_WORKDAYS, today)
    queue = queue_for(Domain.objects.all(), user).aggregate(
        n=Count("id"), late=Count("id", filter=Q(submitted_at__lt=late_before))
    )
    # 域名查询 shows what the office sees (its units, and read-only those below it): count the same.
    expiring = (
        Domain.objects.visible_to(user)
        .filter(status=S.ACTIVE, expires_on__gte=today, expires_on__lte=progress.expiring_until(today))
        .count()
    )
    return [
        todo.Item(
            label="待审核域名",
            count=queue["n"],
            url=reverse("registry:domain-office-queue"),
            note=f"其中 {queue['late']} 个已超过 {OFFICE_DEADLINE_WORKDAYS} 个工作日" if queue["late"] else "",
            urgent=bool(queue["late"]),
            order=10,
        ),
        _expiring_item(expiring, today, order=40),
    ]


def conac_items(user, today):
    """CONAC: 待复审域名 (and how many have waited at CONAC past 5 working days), 解析审核."""
    late_before = todo.overdue_before(OFFICE_DEADLINE_WORKDAYS, today)
    # The content type is matched in the subquery (no lookup of its own): the count stays fixed.
    passed_long_ago = Decision.objects.filter(
        content_type__app_label=Domain._meta.app_label,
        content_type__model=Domain._meta.model_name,
        object_id=OuterRef("pk"),
        round=OuterRef("review_round"),
        tier=Tier.OFFICE,
        outcome=Outcome.PASS,
        created_at__lt=late_before,
    )
    queue = (
        queue_for(Domain.objects.all(), user)
        .annotate(waited_long=Exists(passed_long_ago))
        .aggregate(n=Count("id"), late=Count("id", filter=Q(waited_long=True)))
    )
    dns = DnsChange.objects.pending().count()
    return [
        todo.Item(
            label="待复审域名",
            count=queue["n"],
            url=reverse("registry:domain-conac-queue"),
            note=(
                f"其中 {queue['late']} 个编办审核通过已超过 {OFFICE_DEADLINE_WORKDAYS} 个工作日"
                if queue["late"]
                else ""
            ),
            urgent=bool(queue["late"]),
            order=10,
        ),
        todo.Item(label="解析审核", count=dns, url=reverse("registry:dns-review"), measure="条", order=30),
    ]


def conac_charts(user, today):
    """Per province (its provincial office and every office under it): domains waiting for review."""
    rows = (
        Domain.objects.filter(status__in=[S.PENDING_LOCAL, S.PENDING_CONAC])
        .annotate(province=Substr("office__code", 1, 2))
        .values("province")
        .annotate(
            conac=Count("id", filter=Q(status=S.PENDING_CONAC)),
            local=Count("id", filter=Q(status=S.PENDING_LOCAL)),
        )
        .order_by()
    )
    found = {row["province"]: row for row in rows}
    labels = province_labels()

    def bars(key, status, measure="个"):
        ordered = sorted(found, key=lambda code: (-found[code][key], code))
        return [
            todo.Bar(
                label=labels.get(code, code),
                value=found[code][key],
                text=f"{found[code][key]} {measure}",
                url=search_url(status=status, province=code),
            )
            for code in ordered
        ]

    return [
        todo.Chart(
            title="各省待复审域名",
            caption="各省（省级编办及其下级编办的单位）已由编办审核通过、等待CONAC复审的域名",
            bars=bars("conac", S.PENDING_CONAC),
        ),
        todo.Chart(
            title="各省编办待审核域名",
            caption="各省（省级编办及其下级编办）尚未初审的域名",
            bars=bars("local", S.PENDING_LOCAL),
        ),
    ]


def unit_items(user, today):
    """申报单位: its domains by state with the next step for each, and those about to expire."""
    summary = progress.unit_summary(user.unit, today)
    mine = reverse("registry:my-domains")
    items = [
        todo.Item(
            label=state["label"],
            count=state["count"],
            url=f"{mine}?{urlencode({'status': state['status']})}",
            hint=state["next_step"],
            urgent=state["unit_acts"],
            section="我的域名",
            order=10 + index,
        )
        for index, state in enumerate(summary["states"])
        if state["status"] != S.DELETED
    ]
    if summary["expiring"]:
        items.append(
            todo.Item(
                label=f"{progress.EXPIRING_DAYS}天内到期",
                count=summary["expiring"],
                url=f"{mine}?expiring={progress.EXPIRING_DAYS}",
                hint=f"请向{user.unit.office.name}申请续费",
                urgent=True,
                section="即将到期",
                order=50,
            )
        )
    if not summary["total"]:
        items.append(
            todo.Item(
                label="域名申请",
                count=0,
                url=reverse("registry:domain-apply"),
                hint="本单位还没有域名：请在“网上名称管理——域名申请”中提交申请",
                section="我的域名",
                order=10,
            )
        )
    return items


def register():
    todo.register("office", office_items)
    todo.register("conac", conac_items)
    todo.register("conac", conac_charts)
    todo.register("unit", unit_items)
