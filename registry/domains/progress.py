"""Where each of a unit's domains stands, and what happens next, in words (我的域名 and 首页).

The next step names who acts: the unit's own 同级编办 by name ("请向北京市委编办缴费"), CONAC,
or the unit itself, following the manual's 域名注册流程 and 续费流程.
"""

import datetime

from django.db.models import Count, Q

from .models import Domain, DomainStatus

S = DomainStatus
EXPIRING_DAYS = 30  # 到期提醒 starts 30 days ahead (billing.jobs)

# The order the states come in along the lifecycle: the page lists them this way.
LIFECYCLE = [
    S.REJECTED,
    S.AWAITING_PAYMENT,
    S.PENDING_LOCAL,
    S.PENDING_CONAC,
    S.FEE_MARKED,
    S.ACTIVATING,
    S.ACTIVE,
    S.EXPIRED,
    S.DELETED,
]

# States in which the unit itself (or its office, on the unit's request) has something to do.
UNIT_ACTS = {S.REJECTED, S.AWAITING_PAYMENT, S.EXPIRED}


def next_step(status, office_name):
    """The next step for a domain in ``status``, for its unit to read."""
    return {
        S.PENDING_LOCAL: f"等待{office_name}审核",
        S.PENDING_CONAC: f"{office_name}已审核通过，等待政务和公益机构域名注册管理中心（CONAC）复审",
        S.REJECTED: "请查看不通过原因，修改并重新提交",
        S.AWAITING_PAYMENT: f"请向{office_name}缴费",
        S.FEE_MARKED: "认款后一个工作日生效",
        S.ACTIVATING: "已认款，下一个工作日注册成功",
        S.ACTIVE: "已生效，可进行域名解析",
        S.EXPIRED: f"已过期，请向{office_name}申请续费",
        S.DELETED: "已删除",
    }[status]


def expiring_until(today):
    return today + datetime.timedelta(days=EXPIRING_DAYS)


def expiring_q(today):
    """Live domains whose 到期时间 falls within the next 30 days (续费 is due)."""
    return Q(status=S.ACTIVE, expires_on__isnull=False, expires_on__lte=expiring_until(today))


def unit_summary(unit, today):
    """The unit's domains counted by state, and how many expire within 30 days (one query)."""
    rows = (
        Domain.objects.filter(unit=unit)
        .values("status")
        .annotate(n=Count("id"), soon=Count("id", filter=expiring_q(today)))
        .order_by()
    )
    counts = {row["status"]: row["n"] for row in rows}
    expiring = sum(row["soon"] for row in rows)
    labels = dict(S.choices)
    office_name = unit.office.name
    states = [
        {
            "status": status,
            "label": labels[status],
            "count": counts[status],
            "next_step": next_step(status, office_name),
            "unit_acts": status in UNIT_ACTS,
        }
        for status in LIFECYCLE
        if counts.get(status)
    ]
    return {"states": states, "expiring": expiring, "total": sum(counts.values())}
