"""Eligibility by credit code: market entities (9x) are refused; a category that disagrees with
the declared 单位类型 is accepted but flagged to the reviewers."""

import datetime

import pytest
from django.urls import reverse

from registry.models import Unit, User
from registry.organisations.validators import ineligible_reason, kind_mismatch
from tests import factories
from tests.prg import follow_refusals  # noqa: F401  (the fixture)
from tests.registry.test_registration import REGISTER_URL, registration_post

# A refused 新用户注册 is a redirect to the form page (PRG); these tests read that page (tests/prg.py).
pytestmark = pytest.mark.usefixtures("follow_refusals")


@pytest.mark.parametrize(("category", "what"), [("91", "工商：企业"), ("92", "个体工商户"), ("93", "农民专业合作社")])
def test_market_entities_are_refused_with_the_reason(db, client, category, what):
    code = factories.credit_code(category, "110108")
    response = client.post(REGISTER_URL, registration_post(kind="institution", credit_code=code))
    errors = " ".join(response.context["form"].errors["credit_code"])
    assert what in errors and "不能注册.政务或.公益域名" in errors
    assert not Unit.objects.filter(credit_code=code).exists()
    assert not User.objects.filter(username="newunit").exists()


def test_the_published_enterprise_code_is_refused():
    assert "企业" in ineligible_reason("91110000802100433B")
    assert ineligible_reason(factories.credit_code("12", "110108")) is None


def test_a_category_that_disagrees_with_the_kind_is_accepted_and_flagged(client, office_user, get_code):
    code = factories.credit_code("12", "110108")  # 事业单位's category, declared as 党政机关
    response = client.post(REGISTER_URL, registration_post(kind="organ", credit_code=code, mobile_code=get_code()))
    assert response.status_code == 302
    unit = Unit.objects.get(credit_code=code)
    assert "机构编制：事业单位" in kind_mismatch(unit.credit_code, unit.kind)
    factories.make_domain(unit, "类型不符测试")
    page = factories_client(office_user).get(reverse("registry:domain-office-queue")).content.decode()
    assert "类型不符" in page and "与申报的单位类型“党政机关”不一致" in page


def test_a_matching_category_is_not_flagged(unit, office_user):
    assert kind_mismatch(unit.credit_code, unit.kind) == ""
    factories.make_domain(unit, "类型相符测试")
    page = factories_client(office_user).get(reverse("registry:domain-office-queue")).content.decode()
    assert "类型不符" not in page


def factories_client(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def test_the_website_review_queue_flags_a_kind_mismatch_too(office_user):
    from badges import services as badge_services
    from badges.models import ApplicationKind, MountMethod

    unit = factories.make_unit(username="mismatch_organ", credit_code=factories.credit_code("12", "110108"))
    domain = factories.make_domain(unit, "类型不符网站", status="active", expires_on=datetime.date(2030, 1, 1))
    badge_services.submit_application(
        unit,
        actor=factories.unit_user(unit),
        kind=ApplicationKind.OPENING,
        site_name="类型不符网站",
        domain=domain,
        english_domain="",
        mount_method=MountMethod.RED_PAGE,
        server_ip="",
        home_url="",
        description="网站简介。",
        functions="",
        contact_name="李四",
        contact_mobile="+8613912345678",
        contact_email="site@example.cn",
    )
    page = factories_client(office_user).get(reverse("badges:review-queue")).content.decode()
    assert "类型不符" in page and "与申报的单位类型“党政机关”不一致" in page
