"""网站开办审核/资质复核申请 and 标识申请: who may apply (the missing step named, on the page and in
the service), the form's checks field by field with nothing stored, one open application per
website, 资格复核 only for a site with a badge, and a good application → 待审核 at the unit's office."""

import pytest
from django.urls import reverse

from badges import services
from badges.models import ApplicationKind, WebsiteApplication
from conac.audit import history_of
from conac.models import AuditEntry
from registry.models import Domain
from tests import factories
from tests.badges.helpers import awaiting_paper, data, live_domain, post_data, submit

WEBSITE = reverse("badges:website-apply")
BADGE = reverse("badges:badge-apply")
NEW_WEBSITE = reverse("badges:application-new", args=["website"])
NEW_BADGE = reverse("badges:application-new", args=["badge"])


def refusal_of(response):
    """The text of the page's missing-step notice, or None."""
    html = response.content.decode()
    if 'id="missing-step"' not in html:
        return None
    return html.split('id="missing-step">', 1)[1].split("</div>", 1)[0]


def assert_refused(call, *words):
    with pytest.raises(services.ApplicationError) as caught:
        call()
    for word in words:
        assert word in str(caught.value), str(caught.value)
    return caught.value


# --- Who may apply: the missing step named ---------------------------------------------------


def test_an_organ_without_a_domain_is_told_to_apply_for_one(client_for, unit, unit_user):
    response = client_for(unit_user).get(WEBSITE)

    assert response.status_code == 200
    notice = refusal_of(response)
    assert "申请前须先注册“.政务”域名" in notice and "网上名称管理——域名申请" in notice
    assert f'href="{reverse("registry:domain-apply")}"' in notice
    assert NEW_WEBSITE not in response.content.decode()  # no 点击申请
    assert_refused(lambda: submit_without_domain(unit, ApplicationKind.OPENING), "“.政务”域名", "域名申请")


def submit_without_domain(unit, kind):
    """submit_application as a unit with no domain to choose would call it."""
    values = {**data(Domain(unit=unit, label="无", suffix=".政务")), "kind": kind, "domain": None}
    return services.submit_application(unit, actor=factories.unit_user(unit), **values)


def test_an_organ_whose_domain_awaits_payment_is_told_which_step_remains(client_for, unit, unit_user):
    domain = live_domain(unit, "海淀待缴费", status="awaiting_payment")

    response = client_for(unit_user).get(WEBSITE)

    notice = refusal_of(response)
    assert "海淀待缴费.政务" in notice and "待缴费" in notice and "注册成功后才能申请" in notice
    assert f'href="{reverse("registry:my-domains")}"' in notice
    assert NEW_WEBSITE not in response.content.decode()
    assert_refused(lambda: submit(domain), "待缴费", "海淀待缴费.政务")
    assert not WebsiteApplication.objects.exists()


def test_an_organ_whose_domain_expired_is_told_to_renew_it(client_for, unit, unit_user):
    domain = live_domain(unit, "海淀已过期", status="expired")

    notice = refusal_of(client_for(unit_user).get(WEBSITE))

    assert "海淀已过期.政务" in notice and "已过期" in notice and "续费" in notice
    assert f'href="{reverse("registry:my-domains")}"' in notice
    assert_refused(lambda: submit(domain), "已过期", "续费")


def test_a_domain_in_progress_is_named_before_an_expired_one(client_for, unit, unit_user):
    live_domain(unit, "海淀已过期", status="expired")
    live_domain(unit, "海淀待复审", status="pending_conac")

    notice = refusal_of(client_for(unit_user).get(WEBSITE))

    assert "海淀待复审.政务" in notice and "待复审" in notice and "海淀已过期" not in notice


def test_an_organ_with_only_a_gongyi_domain_is_told_to_register_a_zhengwu_one(client_for, unit, unit_user):
    domain = live_domain(unit, "海淀公益名", suffix=".公益")

    response = client_for(unit_user).get(WEBSITE)

    assert "申请前须先注册“.政务”域名" in refusal_of(response)
    assert NEW_WEBSITE not in response.content.decode()
    assert_refused(lambda: submit(domain), "“.政务”域名")
    # The form cannot be opened either: 点击申请's URL sends the unit back with the reason.
    response = client_for(unit_user).get(NEW_WEBSITE, follow=True)
    assert response.redirect_chain[-1][0] == WEBSITE
    assert "申请前须先注册“.政务”域名" in response.content.decode()


def test_an_institution_without_a_gongyi_domain_is_told_to_register_one(client_for, institution, institution_user):
    live_domain(institution, "海淀待审核馆", status="pending_local")

    response = client_for(institution_user).get(BADGE)

    notice = refusal_of(response)
    assert "海淀待审核馆.公益" in notice and "待审核" in notice
    assert NEW_BADGE not in response.content.decode()


def test_an_institution_cannot_open_the_website_review(client_for, institution, institution_user, institution_domain):
    client = client_for(institution_user)

    response = client.get(WEBSITE)
    notice = refusal_of(response)
    assert "仅适用于党政机关" in notice and f'href="{BADGE}"' in notice
    assert NEW_WEBSITE not in response.content.decode()

    response = client.post(NEW_WEBSITE, post_data(institution_domain, kind="opening"), follow=True)
    assert response.redirect_chain[-1][0] == WEBSITE
    assert "仅适用于党政机关" in response.content.decode()
    assert_refused(lambda: submit(institution_domain, kind=ApplicationKind.OPENING), "仅适用于党政机关")
    assert not WebsiteApplication.objects.exists()
    # …and its menu does not offer it.
    menu = client.get(BADGE).content.decode().split("<main", 1)[0]
    assert "网站开办审核/资质复核申请" not in menu and "标识申请" in menu


def test_an_organ_cannot_use_the_badge_application(client_for, unit, unit_user, organ_domain):
    client = client_for(unit_user)

    response = client.get(BADGE)
    notice = refusal_of(response)
    assert "党政机关无需单独申请标识" in notice and f'href="{WEBSITE}"' in notice
    assert NEW_BADGE not in response.content.decode()
    response = client.post(NEW_BADGE, post_data(organ_domain, kind="badge"), follow=True)
    assert response.redirect_chain[-1][0] == BADGE
    assert_refused(lambda: submit(organ_domain, kind=ApplicationKind.BADGE), "党政机关无需单独申请标识")
    assert not WebsiteApplication.objects.exists()


def test_a_unit_applies_only_for_itself(unit, organ_domain, other_unit):
    assert_refused(
        lambda: services.submit_application(unit, actor=factories.unit_user(other_unit), **data(organ_domain)),
        "只能为本单位提交申请",
    )


# --- A good application ----------------------------------------------------------------------


def test_the_form_is_prefilled_from_the_unit_and_offers_only_live_names(client_for, unit, unit_user, organ_domain):
    live_domain(unit, "海淀待缴费", status="awaiting_payment")
    response = client_for(unit_user).get(NEW_WEBSITE)

    form = response.context["form"]
    assert form["contact_name"].value() == unit.contact
    assert form["contact_mobile"].value() == unit.contact_mobile[3:]
    assert form["contact_email"].value() == unit.contact_email
    assert list(form.fields["domain"].queryset) == [organ_domain]
    assert [c for c, _ in form.fields["kind"].choices] == ["opening", "recheck"]
    html = response.content.decode()
    for label in ("申请类型", "网站名称", "中文域名", "英文域名", "挂标方式", "网站服务器IP地址", "网站首页地址"):
        assert label in html
    assert "提交申请" in html


def test_an_organ_submits_and_the_application_waits_for_its_office(client_for, unit, unit_user, organ_domain):
    client = client_for(unit_user)

    response = client.post(NEW_WEBSITE, post_data(organ_domain, english_domain="HDCSJ.gov.cn"), follow=True)

    assert response.redirect_chain[-1][0] == WEBSITE
    application = WebsiteApplication.objects.get()
    assert application.status == "pending_local" and application.get_status_display() == "待审核"
    assert application.office_id == unit.office_id == factories.Unit.objects.get(pk=unit.pk).office_id
    assert application.kind == "opening" and application.review_round == 1
    assert application.contact_mobile == "+8613912345678"
    assert application.english_domain == "hdcsj.gov.cn"
    assert application.domain == organ_domain
    assert [e.action for e in history_of(application)] == ["提交申请"]
    html = response.content.decode()
    assert "等待北京市海淀区委编办审核" in html
    row = html.split('id="applications"', 1)[1]
    assert "海淀测试局门户网站" in row and "待审核" in row


def test_an_institution_submits_a_badge_application(client_for, institution, institution_user, institution_domain):
    response = client_for(institution_user).post(
        NEW_BADGE, post_data(institution_domain, mount_method="redpage", server_ip="", home_url=""), follow=True
    )

    assert response.redirect_chain[-1][0] == BADGE
    application = WebsiteApplication.objects.get()
    assert (application.kind, application.status, application.mount_method) == ("badge", "pending_local", "redpage")
    assert application.server_ip == application.home_url == ""


def test_a_red_page_drops_any_server_address_typed(client_for, unit_user, organ_domain):
    client_for(unit_user).post(
        NEW_WEBSITE, post_data(organ_domain, mount_method="redpage", server_ip="10.0.0.1", home_url="ftp://x/")
    )

    application = WebsiteApplication.objects.get()
    assert application.server_ip == application.home_url == ""


# --- The form's checks, at the field, nothing stored --------------------------------------------


def post_refused(client, site, **overrides):
    """POST 提交申请 for the website on ``site`` (a domain), which must be refused; the form's errors."""
    count = WebsiteApplication.objects.count()
    url = NEW_WEBSITE if site.suffix == ".政务" else NEW_BADGE
    response = client.post(url, post_data(site, **overrides), follow=True)
    assert response.redirect_chain[0][0].startswith(f"{url}?form=")  # PRG: the form again as a GET
    assert WebsiteApplication.objects.count() == count
    return response.context["form"].errors


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"server_ip": "", "home_url": ""}, "server_ip", "自建网站须填写网站服务器IP地址"),
        ({"server_ip": "", "home_url": ""}, "home_url", "自建网站须填写网站首页地址"),
        ({"server_ip": "999.1.1.1"}, "server_ip", "不是有效"),
        ({"server_ip": "192.168.1.10"}, "server_ip", "公网"),
        ({"home_url": "ftp://海淀测试局.政务/"}, "home_url", "http:// 或 https://"),
        ({"home_url": "海淀测试局.政务"}, "home_url", "http:// 或 https://"),
        ({"home_url": "http://www.example.com/"}, "home_url", "须在本申请的域名之下"),
        ({"home_url": "http://海淀测试局.政务.example.com/"}, "home_url", "须在本申请的域名之下"),
        ({"home_url": "http://news.海淀测试局.政务/"}, "home_url", "须在本申请的域名之下"),
        ({"home_url": "http://user:pw@海淀测试局.政务/"}, "home_url", "用户名或密码"),
        ({"home_url": "https://hdcsj.gov.cn/", "english_domain": ""}, "home_url", "须在本申请的域名之下"),
        ({"english_domain": "hdcsj"}, "english_domain", "完整的主机名"),
        ({"english_domain": "http://hdcsj.gov.cn/"}, "english_domain", "不是有效的主机名"),
        ({"english_domain": "hd_csj!.gov.cn"}, "english_domain", "不是有效的名称"),
        ({"english_domain": "202.96.0.10"}, "english_domain", "IP地址"),
        # Not a Chinese name, nor someone else's .政务 under another guise.
        (
            {"english_domain": "海淀另一单位.政务", "home_url": "http://海淀另一单位.政务/"},
            "english_domain",
            "英文字母",
        ),
        ({"english_domain": "xn--fiq228c.gov.cn"}, "english_domain", "英文字母"),
        ({"contact_mobile": "010-62551234"}, "contact_mobile", "手机号码"),
        ({"contact_mobile": "12345"}, "contact_mobile", "手机号码"),
        ({"contact_mobile": ""}, "contact_mobile", "请填写联系人手机"),
        ({"contact_email": "not-an-email"}, "contact_email", "有效的邮箱地址"),
        ({"site_name": ""}, "site_name", "请填写网站名称"),
        ({"description": ""}, "description", "请填写网站简介"),
        ({"mount_method": ""}, "mount_method", "请选择挂标方式"),
        ({"kind": "badge"}, "kind", "有效的申请类型"),
    ],
)
def test_the_form_refuses_at_the_field(client_for, unit_user, organ_domain, overrides, field, words):
    errors = post_refused(client_for(unit_user), organ_domain, **overrides)

    assert field in errors, errors
    assert any(words in e for e in errors[field]), errors[field]


def test_a_domain_of_another_unit_or_not_live_is_not_a_choice(client_for, unit, unit_user, organ_domain, other_unit):
    client = client_for(unit_user)
    others = live_domain(other_unit, "海淀另一单位")
    waiting = live_domain(unit, "海淀待缴费", status="awaiting_payment")

    for domain in (others, waiting):
        errors = post_refused(client, organ_domain, domain=str(domain.pk), home_url="")
        assert "请选择本单位注册成功的域名" in errors["domain"][0]
    assert_refused(lambda: submit(organ_domain, domain=others), "本单位注册成功")
    assert_refused(lambda: submit(organ_domain, domain=waiting), "本单位注册成功")


@pytest.mark.parametrize(
    "home_url",
    [
        "http://海淀测试局.政务/",
        "https://海淀测试局.政务/index.html?a=1",
        "http://www.海淀测试局.政务/",
        "HTTPS://WWW.海淀测试局.政务:8443/",
        "http://海淀测试局。政务/",
        "A-LABEL",
        "http://hdcsj.gov.cn/",
        "https://www.hdcsj.gov.cn/about/",
    ],
)
def test_the_home_page_may_be_on_any_of_the_applications_names(client_for, unit_user, organ_domain, home_url):
    if home_url == "A-LABEL":
        home_url = f"https://{organ_domain.full_alabel}/"

    response = client_for(unit_user).post(
        NEW_WEBSITE, post_data(organ_domain, english_domain="hdcsj.gov.cn", home_url=home_url)
    )

    assert response.status_code == 302, response.context["form"].errors
    assert WebsiteApplication.objects.get().home_url == home_url


def test_an_ipv6_server_address_is_accepted_and_compressed(client_for, unit_user, organ_domain):
    client_for(unit_user).post(NEW_WEBSITE, post_data(organ_domain, server_ip="2400:3200:0000::0001"))

    assert WebsiteApplication.objects.get().server_ip == "2400:3200::1"


# --- One open application per website; 资格复核 only with a badge ----------------------------------


def test_a_second_open_application_for_the_same_website_is_refused(client_for, unit_user, organ_domain):
    client = client_for(unit_user)
    assert client.post(NEW_WEBSITE, post_data(organ_domain)).status_code == 302

    errors = post_refused(client, organ_domain, site_name="另一个名字")

    assert "不能重复申请" in errors["domain"][0] and "待审核" in errors["domain"][0]
    assert_refused(lambda: submit(organ_domain), "不能重复申请")


def test_a_rejected_application_still_holds_its_website(unit, organ_domain, office_user):
    from review import services as review

    application = submit(organ_domain)
    review.reject(application, actor=office_user, opinion="网站名称不规范")

    assert_refused(lambda: submit(organ_domain), "审核不通过", "不能重复申请")


def test_another_website_of_the_same_unit_may_apply_at_the_same_time(unit, organ_domain):
    submit(organ_domain)
    second = live_domain(unit, "海淀测试局二站")

    assert submit(second).status == "pending_local"
    assert WebsiteApplication.objects.open().count() == 2


def test_a_recheck_without_an_earlier_badge_is_refused(client_for, unit_user, organ_domain):
    errors = post_refused(client_for(unit_user), organ_domain, kind="recheck")

    assert "资格复核须针对已发放网站标识的网站" in errors["kind"][0]
    assert_refused(lambda: submit(organ_domain, kind=ApplicationKind.RECHECK), "资格复核须针对已发放网站标识的网站")


def test_with_a_live_badge_the_site_may_only_be_rechecked(client_for, unit_user, organ_domain, office_user, conac_user):
    badge = services.confirm_paper(awaiting_paper(organ_domain, office_user, conac_user), actor=office_user)
    client = client_for(unit_user)

    errors = post_refused(client, organ_domain, kind="opening")
    assert badge.code in errors["kind"][0] and "资格复核" in errors["kind"][0]
    assert_refused(lambda: submit(organ_domain, kind=ApplicationKind.OPENING), badge.code)

    assert client.post(NEW_WEBSITE, post_data(organ_domain, kind="recheck")).status_code == 302
    assert WebsiteApplication.objects.get(status="pending_local").kind == "recheck"


def test_an_institution_with_a_live_badge_is_not_sent_to_a_recheck_it_cannot_choose(
    client_for, institution_user, institution_domain, office_user, conac_user
):
    from tests.badges.helpers import approve_both

    approve_both(submit(institution_domain), office_user, conac_user)

    errors = post_refused(client_for(institution_user), institution_domain)

    assert "已有网站标识" in errors["domain"][0] and "资格复核" not in errors["domain"][0]


def test_nothing_is_audited_for_a_refused_application(client_for, unit_user, organ_domain):
    before = AuditEntry.objects.count()

    post_refused(client_for(unit_user), organ_domain, home_url="http://www.example.com/")

    assert AuditEntry.objects.count() == before
