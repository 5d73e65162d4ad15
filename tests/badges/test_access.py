"""Every badges page with everyone who should not use it: another unit (404 on objects), another
office (404), anonymous visitors (to the login page), the wrong role (403). CONAC sees every
application and badge; an office its own units' (and, read-only, those of the offices below it);
a unit its own. The 申请函 and 申请表 go to the unit and its own office only."""

import pytest
from django.urls import reverse

from badges import services
from badges.models import WebsiteApplication
from badges.urls import urlpatterns
from review import services as review
from tests import factories
from tests.badges.helpers import approve_both, awaiting_paper, live_domain, submit

LOGIN = reverse("login")
PERSONAS = ("owner", "other_unit", "office", "province_office", "other_office", "conac", "anonymous")


@pytest.fixture
def scene(unit, unit_user, other_unit_user, office_user, province_office_user, other_office_user, conac_user):
    """The 海淀 organ ``unit`` with a rejected application, one 待资料确认, and an issued badge."""
    rejected = submit(live_domain(unit, "海淀退回站"))
    review.reject(rejected, actor=office_user, opinion="网站名称不规范")
    paper = awaiting_paper(live_domain(unit, "海淀资料站"), office_user, conac_user)
    badge = services.confirm_paper(
        awaiting_paper(live_domain(unit, "海淀标识站"), office_user, conac_user), actor=office_user
    )
    return {
        "users": {
            "owner": unit_user,
            "other_unit": other_unit_user,
            "office": office_user,
            "province_office": province_office_user,
            "other_office": other_office_user,
            "conac": conac_user,
            "anonymous": None,
        },
        "rejected": rejected,
        "paper": paper,
        "badge": badge,
    }


def url_of(name, scene):
    args = {
        "application-new": ["website"],
        "application-detail": [scene["rejected"].public_id],
        "application-resubmit": [scene["rejected"].public_id],
        "paper-decide": [scene["paper"].public_id],
        "application-document": [scene["paper"].public_id, "letter"],
        "badge-certificate": [scene["badge"].code],
        "badge-detail": [scene["badge"].code],
        "badge-revoke": [scene["badge"].code],
        "redpage-public": [scene["badge"].unit.public_id],
    }.get(name, [])
    return reverse(f"badges:{name}", args=args)


# name → (method, expected status per persona, in PERSONAS' order). "login" = sent to the login page.
EXPECTED = {
    "website-apply": ("get", [200, 200, 403, 403, 403, 403, "login"]),
    "badge-apply": ("get", [200, 200, 403, 403, 403, 403, "login"]),
    # The other unit has no live .政务 name: 点击申请 sends it back to say so.
    "application-new": ("get", [200, 302, 403, 403, 403, 403, "login"]),
    "review-queue": ("get", [403, 403, 200, 200, 200, 200, "login"]),
    # An empty decision: back to the queue page (PRG) with the form's errors, for staff.
    "review-decide": ("post", [403, 403, 302, 302, 302, 302, "login"]),
    "application-detail": ("get", [200, 404, 200, 200, 404, 200, "login"]),
    "application-resubmit": ("get", [200, 404, 403, 403, 403, 403, "login"]),
    # An empty paper decision: back to the detail page with the form's errors where it is visible.
    "paper-decide": ("post", [403, 403, 302, 302, 404, 403, "login"]),
    # 申请函 / 申请表: the unit and its own office only; not the office above, not CONAC.
    "application-document": ("get", [200, 404, 200, 404, 404, 404, "login"]),
    "badge-manage": ("get", [200, 200, 403, 403, 403, 403, "login"]),
    "badge-certificate": ("get", [200, 404, 200, 200, 404, 200, "login"]),
    # The staff badge page (its checks, and CONAC's 撤销); an empty 撤销 goes back to it (PRG) with the error.
    "badge-detail": ("get", [403, 403, 200, 200, 404, 200, "login"]),
    "badge-revoke": ("post", [403, 403, 403, 403, 403, 302, "login"]),
    # 网络红页: every unit edits its own; nothing is published in this scene, so the public page is 404.
    "redpage-edit": ("get", [200, 200, 403, 403, 403, 403, "login"]),
    "redpage-public": ("get", [404, 404, 404, 404, 404, 404, 404]),
}


def test_every_badges_page_is_in_the_table():
    assert {p.name for p in urlpatterns} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_who_may_use_each_page(name, scene, client_for):
    method, statuses = EXPECTED[name]
    url = url_of(name, scene)
    before = list(WebsiteApplication.objects.order_by("pk").values_list("pk", "status", "review_round"))

    for persona, expected in zip(PERSONAS, statuses, strict=True):
        response = getattr(client_for(scene["users"][persona]), method)(url)
        if expected == "login":
            assert response.status_code == 302 and response["Location"].startswith(f"{LOGIN}?next="), persona
        else:
            assert response.status_code == expected, (persona, response.status_code)

    # Nobody's visit changed anything.
    assert list(WebsiteApplication.objects.order_by("pk").values_list("pk", "status", "review_round")) == before


def test_another_unit_cannot_resubmit_or_print_by_posting(scene, client_for, other_unit_user):
    client = client_for(other_unit_user)
    rejected, paper = scene["rejected"], scene["paper"]

    assert client.post(reverse("badges:application-resubmit", args=[rejected.public_id]), {}).status_code == 404
    assert client.get(reverse("badges:application-document", args=[paper.public_id, "form"])).status_code == 404
    assert client.get(reverse("badges:application-detail", args=[paper.public_id])).status_code == 404
    with pytest.raises(review.ReviewError, match="只能重新提交本单位的申请"):
        services.resubmit_application(rejected, actor=other_unit_user, site_name="x")
    rejected.refresh_from_db()
    assert (rejected.status, rejected.review_round) == ("rejected", 1)


def test_an_unknown_family_or_id_is_not_found(client_for, unit_user):
    client = client_for(unit_user)

    assert client.get(reverse("badges:application-new", args=["other"])).status_code == 404
    assert client.get("/applications/00000000-0000-0000-0000-000000000000/").status_code == 404
    assert client.get(reverse("badges:badge-certificate", args=["CA000000000000000000000"])).status_code == 404


def test_conac_sees_every_application_an_office_only_its_units(
    client_for, unit, shanghai_unit, office_user, other_office_user, conac_user
):
    haidian = submit(live_domain(unit, "海淀可见站"))
    shanghai = submit(live_domain(shanghai_unit, "上海可见站"))
    other_office = factories.make_staff("sh_staff_2", "310000")
    for application, reviewer in ((haidian, office_user), (shanghai, other_office)):
        review.approve(application, actor=reviewer)

    def detail(user, application):
        return client_for(user).get(reverse("badges:application-detail", args=[application.public_id])).status_code

    assert (detail(conac_user, haidian), detail(conac_user, shanghai)) == (200, 200)
    assert (detail(office_user, haidian), detail(office_user, shanghai)) == (200, 404)
    assert (detail(other_office_user, haidian), detail(other_office_user, shanghai)) == (404, 200)

    conac_queue = client_for(conac_user).get(reverse("badges:review-queue")).content.decode()
    assert "海淀可见站门户网站" in conac_queue and "上海可见站门户网站" in conac_queue

    third = submit(live_domain(unit, "海淀待审站"))
    sh_third = submit(live_domain(shanghai_unit, "上海待审站"))
    queue = client_for(office_user).get(reverse("badges:review-queue")).content.decode()
    assert third.site_name in queue and sh_third.site_name not in queue
    assert WebsiteApplication.objects.visible_to(office_user).filter(unit=shanghai_unit).count() == 0
    assert WebsiteApplication.objects.visible_to(conac_user).count() == 4


def test_conac_sees_every_badge_an_office_only_its_units(
    client_for, unit, shanghai_unit, institution, office_user, other_office_user, conac_user
):
    sh_office = factories.make_staff("sh_staff_2", "310000")
    haidian = services.confirm_paper(
        awaiting_paper(live_domain(unit, "海淀标识站"), office_user, conac_user), actor=office_user
    )
    shanghai = services.confirm_paper(
        awaiting_paper(live_domain(shanghai_unit, "上海标识站"), sh_office, conac_user), actor=sh_office
    )
    approve_both(submit(live_domain(institution, "海淀标识馆")), office_user, conac_user)

    def certificate(user, badge):
        return client_for(user).get(reverse("badges:badge-certificate", args=[badge.code])).status_code

    assert (certificate(conac_user, haidian), certificate(conac_user, shanghai)) == (200, 200)
    assert (certificate(office_user, haidian), certificate(office_user, shanghai)) == (200, 404)
    assert (certificate(other_office_user, haidian), certificate(other_office_user, shanghai)) == (404, 200)
    manage = client_for(factories.unit_user(institution)).get(reverse("badges:badge-manage")).content.decode()
    assert haidian.code not in manage and shanghai.code not in manage and "海淀标识馆" in manage
