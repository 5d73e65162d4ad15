"""What the badge tests share: live domains, application data, and applications in any state."""

import datetime
import zoneinfo

from django.utils import timezone

from badges import services
from badges.models import ApplicationKind, MountMethod, WebsiteApplication
from review import services as review
from tests import factories

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def at(year, month, day, hour=10):
    return datetime.datetime(year, month, day, hour, tzinfo=SHANGHAI)


def live_domain(unit, label, *, suffix=None, status="active"):
    """A domain of ``unit``; 注册成功 by default, a year to run."""
    today = datetime.date.today()
    fields = {}
    if status == "active":
        fields = {"registered_on": today, "expires_on": today + datetime.timedelta(days=365)}
    return factories.make_domain(unit, label, suffix=suffix, status=status, **fields)


def kind_for(unit):
    return ApplicationKind.OPENING if unit.kind == "organ" else ApplicationKind.BADGE


def data(site, **overrides):
    """The cleaned data of an application for the website on ``site`` (what the form hands the service)."""
    domain = site
    values = {
        "kind": kind_for(domain.unit),
        "site_name": f"{domain.label}门户网站",
        "domain": domain,
        "english_domain": "",
        "mount_method": MountMethod.SELF_HOSTED,
        "server_ip": "202.96.0.10",
        "home_url": f"http://{domain.full_name}/",
        "description": "政务公开与办事服务。",
        "functions": "负责本辖区有关工作。",
        "contact_name": "李四",
        "contact_mobile": "+8613912345678",
        "contact_email": "site@example.cn",
    }
    values.update(overrides)
    return values


def post_data(site, **overrides):
    """What the browser posts from 点击申请's form for the website on ``site``."""
    domain = site
    values = {
        "kind": kind_for(domain.unit).value,
        "site_name": f"{domain.label}门户网站",
        "domain": str(domain.pk),
        "english_domain": "",
        "mount_method": MountMethod.SELF_HOSTED.value,
        "server_ip": "202.96.0.10",
        "home_url": f"http://{domain.full_name}/",
        "description": "政务公开与办事服务。",
        "functions": "",
        "contact_name": "李四",
        "contact_mobile": "13912345678",
        "contact_email": "site@example.cn",
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def submit(site, *, now=None, **overrides):
    unit = site.unit
    return services.submit_application(unit, actor=factories.unit_user(unit), now=now, **data(site, **overrides))


def approve_both(application, office_user, conac_user):
    review.approve(application, actor=office_user)
    review.approve(application, actor=conac_user)
    application.refresh_from_db()
    return application


def awaiting_paper(domain, office_user, conac_user, **overrides):
    """An organ's application both tiers approved: 待资料确认."""
    application = approve_both(submit(domain, **overrides), office_user, conac_user)
    assert application.status == "awaiting_paper"
    return application


def row(domain, status="pending_local", *, submitted_at=None, **fields):
    """An application row straight through the ORM, unsaved (for bulk_create)."""
    values = data(domain)
    values.pop("kind")
    values.update(fields)
    return WebsiteApplication(
        unit=domain.unit,
        office_id=domain.unit.office_id,
        kind=kind_for(domain.unit),
        status=status,
        submitted_at=submitted_at or timezone.now(),
        **values,
    )
