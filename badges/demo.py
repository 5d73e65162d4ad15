"""Demo applications of both kinds in every state, and two issued badges, through the real services."""

from django.db import transaction
from django.utils import timezone

from registry.models import Domain, DomainStatus, User
from registry.organisations.demo import demo_units
from review import services as review

from . import services
from .models import ApplicationKind, MountMethod, WebsiteApplication

# The extra 注册成功 domains the demo needs (made by billing's paid path before this runs).
# Units with no unpaid charge of their own, so the demo's other money states stay as they are.
DEMO_DOMAINS = [
    ("bj_organ", "北京市示范管理局门户"),
    ("bj_organ", "北京市示范管理局政务服务"),
    ("bj_organ", "北京市示范管理局党建"),
    ("bj_organ", "北京市示范管理局文明实践"),
    ("hd_social", "海淀区示范社工服务中心"),
]


def seed_badges(now=None):
    """Skipped once any demo application exists. Returns the number of applications made."""
    units = {u.account.username: u for u in demo_units().select_related("account", "office")}
    organ, inst, social = units.get("bj_organ"), units.get("hd_inst"), units.get("hd_social")
    if None in (organ, inst, social) or WebsiteApplication.objects.filter(unit__in=[organ, inst, social]).exists():
        return 0
    now = now or timezone.now()
    conac = User.objects.get(username="conac")

    def staff_of(unit):
        return User.objects.filter(role=User.Role.OFFICE, office_id=unit.office_id).order_by("id").first()

    staff, hd_staff = staff_of(organ), staff_of(inst)

    def domain(unit, label):
        return Domain.objects.get(unit=unit, label=label, status=DomainStatus.ACTIVE)

    def apply(unit, label, site_name, *, kind, mount=MountMethod.SELF_HOSTED, when=now):
        d = domain(unit, label)
        self_hosted = mount == MountMethod.SELF_HOSTED
        return services.submit_application(
            unit,
            actor=unit.account,
            now=when,
            kind=kind,
            site_name=site_name,
            domain=d,
            english_domain="",
            mount_method=mount,
            server_ip="202.96.128.86" if self_hosted else "",
            home_url=f"http://{d.full_name}/" if self_hosted else "",
            description=f"{unit.name}{site_name}，发布政务信息、提供办事服务。",
            functions="负责辖区内的公共服务、社会管理和基层党建等工作。",
            contact_name=unit.contact,
            contact_mobile=unit.contact_mobile,
            contact_email=unit.contact_email,
        )

    with transaction.atomic():
        # 党政机关: issued (then a 资格复核 待审核), 待复审, 待资料确认, 资料不符 and then 审核不通过.
        street = apply(organ, "北京市示范管理局门户", "北京市示范管理局门户网站", kind=ApplicationKind.OPENING)
        review.approve(street, actor=staff)
        review.approve(street, actor=conac)
        services.generate_documents(street.pk)
        services.confirm_paper(street, actor=staff)
        apply(organ, "北京市示范管理局门户", "北京市示范管理局门户网站", kind=ApplicationKind.RECHECK)
        service = apply(organ, "北京市示范管理局政务服务", "北京市示范管理局政务服务网", kind=ApplicationKind.OPENING)
        review.approve(service, actor=staff)
        party = apply(organ, "北京市示范管理局党建", "北京市示范管理局党建网", kind=ApplicationKind.OPENING)
        review.approve(party, actor=staff)
        review.approve(party, actor=conac)
        culture = apply(organ, "北京市示范管理局文明实践", "北京市示范管理局文明实践网", kind=ApplicationKind.OPENING)
        review.approve(culture, actor=staff)
        review.approve(culture, actor=conac)
        services.reject_paper(culture, reason="申请函未加盖单位公章，缺少经办人身份证复印件。", actor=staff)
        again = apply(organ, "北京市示范管理局文明实践", "文明实践", kind=ApplicationKind.OPENING)
        review.reject(again, actor=staff, opinion="网站名称过于简略，请使用“北京市示范管理局文明实践网”。")

        # 事业单位: a badge issued at CONAC's approval (no paper); 社会组织: 审核不通过 at CONAC.
        library = apply(inst, "海淀区示范少儿图书馆", "海淀区示范少儿图书馆网", kind=ApplicationKind.BADGE)
        review.approve(library, actor=hd_staff)
        review.approve(library, actor=conac)
        social_site = apply(
            social,
            "海淀区示范社工服务中心",
            "海淀区示范社工服务中心",
            kind=ApplicationKind.BADGE,
            mount=MountMethod.RED_PAGE,
        )
        review.approve(social_site, actor=hd_staff)
        review.reject(social_site, actor=conac, opinion="单位资质材料与统一社会信用代码登记信息不一致，请核实。")
    return WebsiteApplication.objects.filter(unit__in=[organ, inst, social]).count()
