"""新用户注册: a good submission creates the unit, its account, an audit entry and notices;
every bad field is refused in Chinese at that field and creates nothing."""

import re
from unittest import mock

import pytest
from django.core import mail
from django.test import Client

from conac import sms
from conac.models import AuditEntry, Notice
from registry.models import Unit, User
from tests import factories
from tests.prg import follow_refusals  # noqa: F401  (the fixture)

# A refused 新用户注册 is a redirect to the form page (PRG); these tests read that page as the
# browser shows it (tests/prg.py). tests/conac/test_prg.py checks the redirect itself.
pytestmark = pytest.mark.usefixtures("follow_refusals")

REGISTER_URL = "/register/"
CODE_URL = "/register/code/"
MOBILE = "13800138000"


def code_sent_to(mobile=MOBILE):
    """The 验证码 in the newest SMS to ``mobile`` (conac.sms.outbox: the tests' SMS backend)."""
    e164 = mobile if mobile.startswith("+") else f"+86{mobile}"
    for message in reversed(sms.outbox):
        if message["to"] == e164:
            return re.search(r"验证码为(\d{6})", message["body"]).group(1)
    raise AssertionError(f"no code was sent to {mobile}: {sms.outbox}")


def can_log_in(username, password):
    """Sign in through the login page, as a person would (django-axes needs the request)."""
    client = Client()
    response = client.post("/login/", {"username": username, "password": password})
    return response.status_code == 302 and response.url == "/" and "_auth_user_id" in client.session


def registration_post(**overrides):
    """A complete, valid 新用户注册 submission: a 县级 党政机关 in 北京市海淀区."""
    data = {
        "username": "newunit",
        "password": "Abcd12345",
        "password_confirm": "Abcd12345",
        "name": "北京市海淀区新注册局",
        "kind": "organ",
        "credit_code": factories.credit_code("11", "110108"),
        "region_0": "110000",
        "region_1": "110108",
        "region_2": "",
        "level": "county",
        "address": "北京市海淀区中关村大街1号",
        "leader": "张负责",
        "contact": "李联系",
        "contact_mobile": "13800138000",
        "contact_email": "contact@example.cn",
        "office_phone": "010-62345678",
        "handler": "王经办",
        "handler_id_number": "11010519491231002X",
        # A well-formed code that was never sent: tests that must get through ask for a real one.
        "mobile_code": "000000",
    }
    data.update(overrides)
    return data


def _counts():
    return (Unit.objects.count(), User.objects.count(), AuditEntry.objects.count(), Notice.objects.count())


@pytest.fixture
def existing_unit(db):
    return factories.make_unit(username="taken_name", name="已注册单位", region_code="110108")


def test_register_page_is_public_and_linked_from_login(client, db):
    login_page = client.get("/login/").content.decode()
    assert 'href="/register/"' in login_page and "新用户注册" in login_page
    response = client.get(REGISTER_URL)
    body = response.content.decode()
    assert response.status_code == 200
    for label in ["用户名", "确认密码", "统一社会信用代码", "所在地区", "单位级别", "经办人身份证号", "联系人手机"]:
        assert label in body
    assert "获取验证码" in body and "短信验证码" in body
    assert 'name="region_0"' in body and "北京市" in body
    assert "csrfmiddlewaretoken" in body


def test_good_registration_creates_unit_account_audit_and_notices(
    client, db, get_code, django_capture_on_commit_callbacks
):
    code = get_code()
    sms.outbox.clear()
    before = _counts()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(REGISTER_URL, registration_post(mobile_code=code), follow=True)

    assert response.redirect_chain[-1][0] == "/register/done/"
    body = response.content.decode()
    assert "注册成功" in body and "北京市海淀区委编办" in body

    unit = Unit.objects.get(name="北京市海淀区新注册局")
    assert unit.region.code == "110108"
    assert unit.level == "county" and unit.kind == "organ"
    assert unit.office.name == "北京市海淀区委编办"
    assert unit.contact_mobile == "+8613800138000"
    assert unit.handler_id_number == "11010519491231002X"
    user = User.objects.get(username="newunit")
    assert user.role == User.Role.UNIT and user.unit == unit
    assert user.check_password("Abcd12345")
    assert user.email == "contact@example.cn"

    entry = AuditEntry.objects.get(object_id=str(unit.pk), action="新用户注册")
    assert entry.actor == user and entry.to_state == "已注册"

    # The mobile is proven by its code: the SMS goes there. The email is not proven yet: it gets
    # the confirmation link and nothing else.
    sms_notice = Notice.objects.get(channel="sms", template="unit_registered")
    assert sms_notice.recipient == "+8613800138000" and sms_notice.status == "sent"
    assert not Notice.objects.filter(channel="email", template="unit_registered").exists()
    confirm = Notice.objects.get(channel="email", template="contact_email_confirm")
    assert confirm.recipient == "contact@example.cn" and confirm.status == "sent"
    assert _counts() == (before[0] + 1, before[1] + 1, before[2] + 1, before[3] + 2)
    assert not unit.contact_email_verified

    assert [m["to"] for m in sms.outbox] == ["+8613800138000"]
    assert "北京市海淀区委编办" in sms.outbox[0]["body"]
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["contact@example.cn"]
    assert "http://testserver/register/confirm-email/" in mail.outbox[0].body
    assert "北京市海淀区新注册局" not in mail.outbox[0].body  # nothing the registrant typed but the code

    # The new unit signs in with what it chose.
    assert can_log_in("newunit", "Abcd12345")


@pytest.mark.parametrize(
    ("overrides", "office_name"),
    [
        # 中央 units are reviewed by 中央编办 wherever their seat is.
        ({"level": "central", "region_1": "", "credit_code": factories.credit_code("11", "100000")}, "中央编办"),
        ({"level": "province", "region_0": "310000", "region_1": ""}, "上海市委编办"),
        ({"level": "prefecture", "region_0": "410000", "region_1": "410100"}, "河南省郑州市委编办"),
        (
            {"level": "county", "region_0": "410000", "region_1": "410100", "region_2": "410105"},
            "河南省郑州市金水区委编办",
        ),
    ],
)
def test_done_page_shows_the_reviewing_office(client, db, get_code, overrides, office_name):
    response = client.post(REGISTER_URL, registration_post(mobile_code=get_code(), **overrides), follow=True)
    assert response.status_code == 200
    assert response.redirect_chain, response.context["form"].errors
    assert f'<strong id="reviewing-office">{office_name}</strong>' in response.content.decode()
    assert Unit.objects.get(name="北京市海淀区新注册局").office.name == office_name


def test_deepest_chosen_region_wins(client, db, get_code):
    client.post(
        REGISTER_URL,
        registration_post(region_0="410000", region_1="410100", region_2="410105", mobile_code=get_code()),
    )
    assert Unit.objects.get(name="北京市海淀区新注册局").region.code == "410105"


def test_done_page_without_a_registration_goes_back_to_the_form(client, db):
    response = client.get("/register/done/")
    assert response.status_code == 302 and response.url == REGISTER_URL


BAD_FIELDS = [
    ("credit_code", {"credit_code": "91350100M000100Y44"}, "统一社会信用代码校验位不正确"),
    ("credit_code", {"credit_code": "91350100M00010"}, "统一社会信用代码应为18位"),
    ("credit_code", {"credit_code": "91350100O000100Y43"}, "不允许的字符"),
    ("handler_id_number", {"handler_id_number": "110105194912310021"}, "身份证号校验位不正确"),
    ("handler_id_number", {"handler_id_number": "11010519490230002"}, "身份证号应为18位"),
    ("contact_mobile", {"contact_mobile": "010-12345678"}, "不接受固定电话"),
    ("contact_mobile", {"contact_mobile": "not a phone"}, "请输入有效的中国大陆手机号码"),
    ("contact_email", {"contact_email": "contact@"}, "请输入有效的电子邮箱地址"),
    ("password", {"password": "abcdefgh", "password_confirm": "abcdefgh"}, "8-16位半角英文和数字混合"),
    ("password", {"password": "Abc123", "password_confirm": "Abc123"}, "8-16位半角英文和数字混合"),
    ("password", {"password": "Abcd1234!", "password_confirm": "Abcd1234!"}, "8-16位半角英文和数字混合"),
    ("password_confirm", {"password_confirm": "Abcd123456"}, "两次输入的密码不一致"),
    ("username", {"username": "中文名"}, "用户名只能包含英文字母、数字和下划线"),
    ("region", {"region_1": ""}, "所在地区须选择到县级行政区划"),
    ("region", {"level": "prefecture"}, "所在地区须选择到地市级行政区划"),
    ("region", {"region_0": "999999", "region_1": ""}, "请选择有效的所在地区"),
    ("region", {"region_0": "", "region_1": ""}, "请填写所在地区"),
    ("name", {"name": ""}, "请填写单位名称"),
    ("leader", {"leader": "  "}, "请填写负责人"),
    ("kind", {"kind": ""}, "请选择单位类型"),
    ("kind", {"kind": "company"}, "请选择有效的单位类型"),
    ("level", {"level": ""}, "请选择单位级别"),
]


@pytest.mark.parametrize(("field", "overrides", "message"), BAD_FIELDS)
def test_bad_field_is_refused_at_that_field_and_creates_nothing(client, db, field, overrides, message):
    before = _counts()
    response = client.post(REGISTER_URL, registration_post(**overrides))

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert any(message in e for e in errors.get(field, [])), errors
    body = response.content.decode()
    assert message in body
    # crispy renders the error under the field it belongs to
    assert f'id="error_1_id_{field}"' in body
    assert _counts() == before
    # what was typed is kept for the correction
    assert 'value="北京市海淀区新注册局"' in body or field == "name"


def test_duplicate_username_is_refused_case_insensitively(client, existing_unit):
    before = _counts()
    response = client.post(REGISTER_URL, registration_post(username="Taken_Name"))
    assert response.status_code == 200
    assert "该用户名已被使用" in response.context["form"].errors["username"][0]
    assert _counts() == before


def test_duplicate_credit_code_is_refused(client, existing_unit):
    before = _counts()
    response = client.post(REGISTER_URL, registration_post(credit_code=existing_unit.credit_code.lower()))
    assert response.status_code == 200
    assert response.context["form"].errors["credit_code"] == ["该统一社会信用代码已注册，如有疑问请联系同级编办"]
    # Nothing is created; the office is told (tests/registry/test_registration_verification.py).
    assert _counts()[:2] == before[:2]


def test_several_bad_fields_are_all_reported(client, db):
    response = client.post(
        REGISTER_URL,
        registration_post(credit_code="X", handler_id_number="1", contact_mobile="010-12345678"),
    )
    errors = response.context["form"].errors
    assert {"credit_code", "handler_id_number", "contact_mobile"} <= set(errors)
    assert not Unit.objects.filter(name="北京市海淀区新注册局").exists()


def test_signed_in_user_is_sent_home_from_register(client_for, unit_user):
    response = client_for(unit_user).get(REGISTER_URL)
    assert response.status_code == 302 and response.url == "/"


# --- The 所在地区 widget (htmx) ---------------------------------------------------------


def test_region_widget_returns_the_children_of_the_chosen_province(client, db):
    response = client.get(
        "/regions/widget/", {"name": "region", "region_changed": "0", "region_0": "110000"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'name="region_1"' in body and 'value="110108"' in body and "海淀区" in body
    assert '<option value="110000" selected>' in body
    assert "<html" not in body  # a fragment, not a page


def test_region_widget_drops_deeper_choices_when_a_higher_one_changes(client, db):
    # The province changed from 北京市 to 河南省: the stale 海淀区 must not survive.
    response = client.get(
        "/regions/widget/",
        {"name": "region", "region_changed": "0", "region_0": "410000", "region_1": "110108"},
    )
    body = response.content.decode()
    assert "郑州市" in body and 'value="410100"' in body
    assert "海淀区" not in body


def test_region_widget_shows_counties_of_a_prefecture(client, db):
    response = client.get(
        "/regions/widget/",
        {"name": "region", "region_changed": "1", "region_0": "410000", "region_1": "410100"},
    )
    body = response.content.decode()
    assert 'name="region_2"' in body and "金水区" in body
    assert '<option value="410100" selected>' in body


def test_region_widget_refuses_unknown_field_names(client, db):
    assert client.get("/regions/widget/", {"name": "evil"}).status_code == 404


def test_a_simultaneous_registration_of_the_same_username_is_an_error_at_the_field(client, db, get_code):
    from registry.organisations import services

    register = services.register_with_mobile_code

    def the_other_request_wins(**kwargs):
        factories.make_unit(username=kwargs["username"], name="抢先注册的单位")
        return register(**kwargs)

    code = get_code()
    with mock.patch("registry.organisations.services.register_with_mobile_code", side_effect=the_other_request_wins):
        response = client.post(REGISTER_URL, registration_post(mobile_code=code))
    assert response.status_code == 200
    assert "该用户名已被使用" in response.context["form"].errors["username"][0]
    assert not Unit.objects.filter(name="北京市海淀区新注册局").exists()


def test_region_widget_survives_tampered_parameters(client, db):
    response = client.get("/regions/widget/", {"name": "region", "region_changed": "abc", "region_0": "110000"})
    assert response.status_code == 200 and 'name="region_0"' in response.content.decode()
    response = client.get("/regions/widget/", {"name": "region", "region_0": "no-such-code"})
    assert response.status_code == 200 and "北京市" in response.content.decode()
