"""Demo domains in every state built so far, made through the real services."""

from django.contrib.auth.models import Permission
from django.db import transaction

from registry.models import Domain, ReservedName, Unit, User
from review import services as review
from review.models import CommonReason

from . import services as domain_services

COMMON_REASONS = [
    "域名与单位名称不符，请使用单位全称或规范简称。",
    "单位信息不完整或有误，请核实统一社会信用代码。",
    "申请的域名后缀与单位类型不符。",
    "域名含有不规范的字符或简称，请修改后重新提交。",
    "该单位已注册同类域名，请勿重复申请。",
]

RESERVED_NAMES = [
    ("中国", "", "国家名称"),
    ("中华人民共和国", "", "国家名称"),
    ("中央人民政府", ".政务", "中央人民政府专用"),
    ("国务院", ".政务", "国务院专用"),
]

# (unit username, label, years, steps) — steps taken in order by the right people.
DEMO_DOMAINS = [
    ("hd_organ", "海淀区示范街道", 1, []),  # 待审核
    ("hd_inst", "海淀区示范图书馆", 2, ["office:approve"]),  # 待复审
    ("hd_social", "海淀示范社工", 1, ["office:reject:域名与单位名称不符，请使用单位全称或规范简称。"]),  # 审核不通过
    ("hd_organ", "海淀区示范街道办事处", 3, ["office:approve", "conac:approve"]),  # 待缴费
    ("bj_organ", "北京市示范管理局", 5, ["office:approve", "conac:approve"]),  # 待缴费
    (
        "bj_inst",
        "北京市示范信息中心",
        1,
        ["office:approve", "conac:reject:单位信息不完整或有误，请核实统一社会信用代码。"],
    ),
    ("bj_social", "北京示范志愿者协会", 1, []),
    ("sh_organ", "上海市示范管理局", 2, ["office:approve"]),
    ("sh_inst", "上海市示范档案馆", 1, ["office:approve", "conac:approve"]),
    ("zy_organ", "国家示范管理局", 10, ["office:approve", "conac:approve"]),
    ("zy_inst", "国家示范研究中心", 1, []),
    ("sh_social", "上海示范慈善", 1, ["office:approve", "conac:approve", "office:delete:单位申请撤销"]),  # 已删除
]


def _office_staff_for(unit):
    return User.objects.filter(role=User.Role.OFFICE, office=unit.office).order_by("id").first()


@transaction.atomic
def seed_review_settings():
    created = 0
    if not CommonReason.objects.exists():
        CommonReason.objects.bulk_create(CommonReason(text=t, sort_order=i) for i, t in enumerate(COMMON_REASONS))
        created += len(COMMON_REASONS)
    for label, suffix, note in RESERVED_NAMES:
        _, made = ReservedName.objects.get_or_create(label=label, suffix=suffix, defaults={"note": note})
        created += made
    # CONAC keeps the reserved names and the common reasons in the admin.
    conac = User.objects.filter(username="conac").first()
    if conac and not conac.is_staff:
        conac.is_staff = True
        conac.save(update_fields=["is_staff"])
        conac.user_permissions.add(
            *Permission.objects.filter(
                content_type__app_label__in=["registry", "review"],
                codename__in=[
                    "view_reservedname",
                    "add_reservedname",
                    "change_reservedname",
                    "delete_reservedname",
                    "view_commonreason",
                    "add_commonreason",
                    "change_commonreason",
                    "delete_commonreason",
                ],
            )  # fmt: skip
        )
    return created


def seed_domains():
    """Create the demo domains once (skipped when the demo units already have any)."""
    units = {u.account.username: u for u in Unit.objects.filter(account__username__in={d[0] for d in DEMO_DOMAINS})}
    if Domain.objects.filter(unit__in=units.values()).exists():
        return 0
    conac = User.objects.get(username="conac")
    created = 0
    for username, label, years, steps in DEMO_DOMAINS:
        unit = units[username]
        domain = domain_services.submit_domain_application(
            unit, label=label, suffix=_suffix(unit), years=years, actor=unit.account
        )
        created += 1
        for step in steps:
            who, action, *reason = step.split(":", 2)
            actor = conac if who == "conac" else _office_staff_for(unit)
            if action == "approve":
                review.approve(domain, actor=actor)
            elif action == "reject":
                review.reject(domain, actor=actor, opinion=reason[0])
            elif action == "delete":
                domain_services.delete_domain(domain, reason=reason[0], actor=actor)
    return created


def _suffix(unit):
    from .names import suffix_for_kind

    return suffix_for_kind(unit.kind)
