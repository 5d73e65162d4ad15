"""撤销 (CONAC only, with a reason) from any state, its audit entry and notices, the public told at
once; the staff badge page (CONAC and offices in their scope) with its checks and the 撤销 form;
everyone who should not see it or revoke."""

import datetime

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from badges import public, services
from badges.models import Badge, HangCheck
from conac.audit import history_of
from conac.models import Notice
from tests.badges.helpers import awaiting_paper

LOGIN = reverse("login")
PERSONAS = ("owner", "other_unit", "office", "province_office", "other_office", "conac", "anonymous")


@pytest.fixture
def badge(organ_domain, office_user, conac_user):
    return services.confirm_paper(awaiting_paper(organ_domain, office_user, conac_user), actor=office_user)


@pytest.fixture
def office_inbox(office_user):
    office_user.email = "hd-bb@example.cn"
    office_user.save(update_fields=["email"])
    return office_user.email


@pytest.fixture
def users(unit_user, other_unit_user, office_user, province_office_user, other_office_user, conac_user):
    return dict(
        zip(
            PERSONAS,
            (unit_user, other_unit_user, office_user, province_office_user, other_office_user, conac_user, None),
            strict=True,
        )
    )


# --- The service ---------------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["issued", "hung", "overdue"])
def test_conac_revokes_from_any_state(badge, conac_user, state, office_inbox, django_capture_on_commit_callbacks):
    Badge.objects.filter(pk=badge.pk).update(status=state)
    badge.refresh_from_db()
    now = timezone.now()

    with django_capture_on_commit_callbacks(execute=True):
        assert services.revoke_badge(badge, reason="  网站内容与申报不符  ", actor=conac_user, now=now) is True

    badge.refresh_from_db()
    assert (badge.status, badge.revoked_at, badge.revoke_reason) == ("revoked", now, "网站内容与申报不符")
    entry = history_of(badge).first()
    assert entry.action == "撤销标识" and entry.actor == conac_user and entry.reason == "网站内容与申报不符"
    assert entry.to_state == "已撤销" and entry.from_state == Badge(status=state).get_status_display()
    assert cache.get(public.VERSION_KEY) is not None  # the script, image and page are told at once
    notices = Notice.objects.filter(key=f"badge:{badge.code}:revoked")
    assert sorted(notices.values_list("template", "channel", "recipient")) == [
        ("badge_revoked", "email", "site@example.cn"),
        ("badge_revoked", "sms", "+8613912345678"),
        ("badge_revoked_office", "email", office_inbox),
    ]
    assert all("网站内容与申报不符" in n.body and badge.code in n.body for n in notices)


def test_a_second_revocation_changes_nothing(badge, conac_user):
    services.revoke_badge(badge, reason="第一次", actor=conac_user)
    cache.delete(public.VERSION_KEY)

    assert services.revoke_badge(badge, reason="第二次", actor=conac_user) is False

    badge.refresh_from_db()
    assert badge.revoke_reason == "第一次"
    assert [e.action for e in history_of(badge)].count("撤销标识") == 1
    assert Notice.objects.filter(template="badge_revoked", channel="sms").count() == 1
    assert cache.get(public.VERSION_KEY) is None


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_reason_is_required(badge, conac_user, reason):
    with pytest.raises(services.ApplicationError, match="撤销原因"):
        services.revoke_badge(badge, reason=reason, actor=conac_user)

    assert Badge.objects.get(pk=badge.pk).status == "issued"


@pytest.mark.parametrize("who", ["unit_user", "office_user", "province_office_user", None])
def test_only_conac_revokes(badge, request, who):
    actor = request.getfixturevalue(who) if who else None

    with pytest.raises(services.ApplicationError, match="只有CONAC"):
        services.revoke_badge(badge, reason="越权", actor=actor)

    assert Badge.objects.get(pk=badge.pk).status == "issued"
    assert not Notice.objects.filter(template__startswith="badge_revoked").exists()


def test_a_revoked_badge_is_no_longer_checked_or_marked(badge, conac_user):
    services.revoke_badge(badge, reason="撤销", actor=conac_user)

    assert services.check_badge(badge) is None
    assert services.mark_hung(badge, note="红页发布") is False
    assert services.mark_overdue_badges(badge.deadline + datetime.timedelta(days=30)) == 0
    assert Badge.objects.get(pk=badge.pk).status == "revoked"


# --- The pages ---------------------------------------------------------------------------------


def expect(response, expected):
    if expected == "login":
        assert response.status_code == 302 and response.url.startswith(LOGIN)
    else:
        assert response.status_code == expected


@pytest.mark.parametrize(
    ("persona", "expected"),
    list(zip(PERSONAS, [403, 403, 200, 200, 404, 200, "login"], strict=True)),
)
def test_who_sees_the_badge_page(badge, users, client_for, persona, expected):
    response = client_for(users[persona]).get(reverse("badges:badge-detail", args=[badge.code]))

    expect(response, expected)


@pytest.mark.parametrize(
    ("persona", "expected"),
    list(zip(PERSONAS, [403, 403, 403, 403, 403, 302, "login"], strict=True)),
)
def test_who_may_revoke(badge, users, client_for, persona, expected):
    response = client_for(users[persona]).post(
        reverse("badges:badge-revoke", args=[badge.code]), {"reason": "网站已关闭", "confirmed": "1"}
    )

    expect(response, expected)
    assert Badge.objects.get(pk=badge.pk).status == ("revoked" if persona == "conac" else "issued")


def test_unknown_codes_are_404(conac_user, client_for):
    client = client_for(conac_user)
    code = "CA000000000000000000000"

    assert client.get(reverse("badges:badge-detail", args=[code])).status_code == 404
    assert client.post(reverse("badges:badge-revoke", args=[code]), {"reason": "x"}).status_code == 404


def test_revoking_needs_a_post(badge, conac_user, client_for):
    response = client_for(conac_user).get(reverse("badges:badge-revoke", args=[badge.code]))

    assert response.status_code == 405
    assert Badge.objects.get(pk=badge.pk).status == "issued"


def test_the_page_shows_the_badge_its_last_20_checks_and_the_revoke_form_for_conac(
    badge, conac_user, office_user, client_for, django_assert_max_num_queries
):
    start = timezone.now() - datetime.timedelta(days=30)
    HangCheck.objects.bulk_create(
        HangCheck(
            badge=badge,
            checked_at=start + datetime.timedelta(hours=n),
            url="http://海淀测试局.政务/",
            found=False,
            http_status=200,
            note=f"未找到标识代码 第{n}次",
            bytes_read=100 + n,
        )
        for n in range(25)
    )
    Badge.objects.filter(pk=badge.pk).update(
        last_checked_at=start + datetime.timedelta(hours=24), last_check_found=False, last_check_note="未找到标识代码"
    )
    url = reverse("badges:badge-detail", args=[badge.code])
    client = client_for(conac_user)

    with django_assert_max_num_queries(12):
        page = client.get(url).content.decode()

    assert badge.code in page and badge.site_name in page and badge.unit.name in page
    assert "已发放" in page and "未找到标识代码" in page and "最近检查" in page
    assert page.count("未找到标识代码 第") == 20
    assert "第24次</td>" in page and "第5次</td>" in page and "第4次</td>" not in page  # newest first
    assert 'name="reason"' in page and "撤销原因" in page
    assert reverse("badges:badge-revoke", args=[badge.code]) in page
    # The office sees the same page without the form.
    office_page = client_for(office_user).get(url).content.decode()
    assert "未找到标识代码 第24次" in office_page and 'name="reason"' not in office_page


def test_revoking_from_the_page(badge, conac_user, client_for, office_inbox):
    client = client_for(conac_user)
    url = reverse("badges:badge-revoke", args=[badge.code])

    response = client.post(url, {"reason": "网站已停止运行", "confirmed": "1"}, follow=True)

    page = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("badges:badge-detail", args=[badge.code])
    assert "已撤销" in page and "网站已停止运行" in page and 'name="reason"' not in page
    badge.refresh_from_db()
    assert badge.status == "revoked" and badge.revoke_reason == "网站已停止运行"
    assert Notice.objects.filter(template="badge_revoked_office", recipient=office_inbox).exists()


@pytest.mark.parametrize("reason", ["", "   "])
def test_the_page_refuses_an_empty_reason(badge, conac_user, client_for, reason):
    url = reverse("badges:badge-revoke", args=[badge.code])
    response = client_for(conac_user).post(url, {"reason": reason, "confirmed": "1"}, follow=True)

    assert response.redirect_chain[0][0].startswith(f"{reverse('badges:badge-detail', args=[badge.code])}?form=")
    assert "请填写撤销原因" in response.content.decode()
    assert Badge.objects.get(pk=badge.pk).status == "issued"


def test_the_application_page_links_staff_to_the_badge(badge, unit_user, office_user, conac_user, client_for):
    url = reverse("badges:application-detail", args=[badge.application.public_id])
    link = reverse("badges:badge-detail", args=[badge.code])

    assert link in client_for(office_user).get(url).content.decode()
    assert link in client_for(conac_user).get(url).content.decode()
    owner_page = client_for(unit_user).get(url).content.decode()
    assert badge.code in owner_page and link not in owner_page


def test_the_check_partial_shows_state_and_last_result(badge):
    from django.template.loader import render_to_string

    assert "尚未检查" in render_to_string("badges/partials/badge_check.html", {"badge": badge})
    badge.status = "hung"
    badge.last_checked_at = timezone.now()
    badge.last_check_found = True
    badge.last_check_note = f"找到标识代码（{badge.code}）"
    html = render_to_string("badges/partials/badge_check.html", {"badge": badge})
    assert "已挂标" in html and "找到标识" in html and badge.code in html
    badge.mount_method = "redpage"
    assert "网络红页" in render_to_string("badges/partials/badge_check.html", {"badge": badge})
