"""域名信息查询: the public page that says, in Chinese, what RDAP says."""

import pytest

from registry.models import ReservedName
from tests import factories
from tests.badges.helpers import approve_both, live_domain, submit


def text_of(response):
    return response.content.decode("utf-8")


@pytest.mark.django_db
def test_the_page_has_a_labelled_name_field_and_the_query_button(client):
    response = client.get("/whois/")
    html = text_of(response)
    assert response.status_code == 200
    assert '<label for="id_name" class="form-label fw-semibold">域名</label>' in html
    assert 'id="id_name"' in html and ">查询</button>" in html
    assert "尚未注册" not in html and "注册单位" not in html


@pytest.mark.django_db
def test_a_registered_name_shows_its_public_facts(client, active, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        html = text_of(client.get("/whois/", {"name": "海淀测试局.政务"}))
    for label, value in [
        ("域名", "海淀测试局.政务"), ("注册单位", "海淀区测试局"), ("单位类型", "党政机关"), ("所在地区", "北京市海淀区"),
        ("状态", "注册成功"), ("注册日期", "2025年3月1日"), ("到期时间", "2027年3月1日"),
    ]:  # fmt: skip
        assert f'<dt class="col-sm-3">{label}</dt><dd class="col-sm-9">{value}' in html
    assert "无有效的网站标识" in html
    # The A-label finds it too, and a warm name costs no query.
    with django_assert_max_num_queries(0):
        assert "海淀区测试局" in text_of(client.get("/whois/", {"name": "XN--DGT990B0D2LX14K.xn--zfr164b"}))


@pytest.mark.django_db
def test_a_name_in_review_says_so_without_dates(client, unit):
    factories.make_domain(unit, "海淀审核局", status="pending_local")
    html = text_of(client.get("/whois/", {"name": "海淀审核局.政务"}))
    assert "申请中" in html and "注册成功" not in html
    assert '<dt class="col-sm-3">到期时间</dt><dd class="col-sm-9">—' in html


@pytest.mark.django_db
def test_a_valid_badge_is_linked(client, office_user, conac_user):
    institution = factories.make_unit(name="海淀区示范图书馆", region_code="110108", kind="institution")
    site = live_domain(institution, "海淀示范图书馆")
    approve_both(submit(site), office_user, conac_user)
    badge = site.badges.get()
    html = text_of(client.get("/whois/", {"name": "海淀示范图书馆.公益"}))
    assert (
        f'href="https://bszs.conac.cn/certificate/{badge.certificate_id}/" id="certificate-link">查看标识证书' in html
    )
    assert "事业单位" in html


@pytest.mark.django_db
def test_a_free_name_says_so_and_how_to_apply(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        html = text_of(client.get("/whois/", {"name": "无人注册.公益"}))
    assert "无人注册.公益 尚未注册" in html and "可以申请" in html
    assert ".公益 域名供事业单位和社会组织注册" in html
    assert "网上名称管理——域名申请" in html and "新用户注册" in html


@pytest.mark.django_db
def test_a_free_name_that_cannot_be_applied_for_says_why(client, unit):
    ReservedName.objects.create(label="保留示例", suffix="")
    html = text_of(client.get("/whois/", {"name": "保留示例.政务"}))
    assert "为保留名称，不能申请" in html and "可以申请" not in html
    factories.make_domain(unit, "海淀发展局", status="active")
    html = text_of(client.get("/whois/", {"name": "海淀發展局.政务"}))
    assert "简繁体变体“海淀发展局.政务”已被注册" in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    "typed, message",
    [
        ("", "请填写域名"),
        ("海淀测试局", "请填写完整的域名，包括后缀 .政务 或 .公益"),
        ("example.com", "本系统只登记 .政务 和 .公益 域名"),
        ("a_b.政务", "域名不能包含“_”"),
        ("-ab.政务", "不是有效的域名"),
    ],
)
def test_bad_input_gets_a_chinese_message_at_the_field(client, typed, message):
    response = client.get("/whois/", {"name": typed})
    html = text_of(response)
    assert response.status_code == 200
    assert '<div class="invalid-feedback d-block" id="id_name-error">' in html and message in html
    assert 'aria-invalid="true"' in html


@pytest.mark.django_db
def test_the_page_shares_the_rdap_rate_limit_with_retry_after(client, active, settings):
    settings.RDAP_RATE_LIMIT = 2
    assert client.get("/rdap/domains", {"name": "海淀*"}).status_code == 200
    assert client.get("/whois/", {"name": "海淀测试局.政务"}).status_code == 200
    response = client.get("/whois/", {"name": "海淀测试局.政务"})
    assert response.status_code == 429 and int(response["Retry-After"]) >= 1
    assert "查询过于频繁" in text_of(response) and "海淀区测试局" not in text_of(response)
    assert client.get("/rdap/domains", {"name": "海淀*"}).status_code == 429


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["unit_user", "other_unit_user", "office_user", "other_office_user", "conac_user"])
def test_everyone_signed_in_sees_the_same_public_facts_and_no_more(client_for, active, persona, request):
    user = request.getfixturevalue(persona)
    html = text_of(client_for(user).get("/whois/", {"name": "海淀测试局.政务"}))
    assert "海淀区测试局" in html and "注册成功" in html
    assert active.unit.contact not in html and active.unit.contact_email not in html


@pytest.mark.django_db
def test_the_login_page_and_every_page_footer_link_to_the_lookup(client):
    html = text_of(client.get("/login/"))
    assert '<a href="/whois/" id="lookup-link">域名信息查询</a>' in html
    assert '<a href="/whois/" class="link-secondary">域名信息查询</a></footer>' in html
