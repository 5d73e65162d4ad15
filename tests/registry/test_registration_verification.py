"""新用户注册 is no open relay (issue 10, item 2): the 联系人手机 is proven by a 验证码 before the
account exists, the 联系人邮箱 by a link before any notice goes there, one client address cannot
flood the forms, and a credit code registered already is refused while its office is told."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.template.loader import render_to_string
from django.test import Client
from django.utils import timezone

from conac import notices, sms
from conac.models import AuditEntry, Notice
from registry.models import Unit, User
from registry.organisations import demo, services, verification
from registry.organisations.models import MobileVerification
from tests import factories
from tests.prg import follow_refusals  # noqa: F401  (the fixture)
from tests.registry.test_registration import (
    CODE_URL,
    MOBILE,
    REGISTER_URL,
    code_sent_to,
    registration_post,
)

# A refused 新用户注册 is a redirect to the form page (PRG); these tests read that page as the
# browser shows it (tests/prg.py). tests/conac/test_prg.py checks the redirect itself.
pytestmark = pytest.mark.usefixtures("follow_refusals")

E164 = f"+86{MOBILE}"
NEW_UNIT = "北京市海淀区新注册局"


def _created():
    return Unit.objects.filter(name=NEW_UNIT).exists() or User.objects.filter(username="newunit").exists()


def _send(mobile=E164, *, address="10.0.0.1", now=None, capture):
    with capture(execute=True):
        return services.send_registration_code(mobile, client_address=address, now=now)


@pytest.fixture
def capture(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


# --- 获取验证码 ---------------------------------------------------------------------------------


def test_code_is_six_digits_by_sms_and_only_its_keyed_hash_is_stored(client, db, get_code):
    code = get_code()
    assert re.fullmatch(r"[0-9]{6}", code)
    assert [m["to"] for m in sms.outbox] == [E164]
    assert "5分钟内有效" in sms.outbox[0]["body"]

    row = MobileVerification.objects.get(mobile=E164)
    stored = [str(getattr(row, f.attname)) for f in MobileVerification._meta.concrete_fields]
    assert not any(code in value for value in stored if value != E164)
    assert re.fullmatch(r"[0-9a-f]{64}", row.code_hash)
    assert verification.code_matches(row, code)
    assert not verification.code_matches(row, f"{(int(code) + 1) % 10**6:06d}")
    # Not a notice row either: those keep their text.
    assert not Notice.objects.filter(body__contains=code).exists()


def test_the_page_shows_where_the_code_went(client, db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(CODE_URL, {"contact_mobile": MOBILE}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body  # the status line, for htmx
    assert "验证码已发送至 13800138000，5分钟内有效" in body


def test_without_javascript_the_button_posts_the_form_and_gets_the_page_back_as_typed(
    client, db, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(CODE_URL, registration_post(send_code="1"))
    body = response.content.decode()
    assert response.status_code == 200 and "<html" in body
    assert "验证码已发送至 13800138000" in body
    assert f'value="{NEW_UNIT}"' in body and 'value="13800138000"' in body
    assert '<option value="110108" selected>' in body  # the 所在地区 as chosen
    assert "Abcd12345" not in body  # passwords are never sent back
    assert "is-invalid" not in body  # the form is not judged before 提交
    assert len(sms.outbox) == 1 and not _created()


@pytest.mark.parametrize(("mobile", "message"), [("", "请先填写联系人手机"), ("010-62345678", "不接受固定电话")])
def test_a_bad_number_gets_no_code(client, db, mobile, message):
    response = client.post(CODE_URL, {"contact_mobile": mobile}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and message in response.content.decode()
    assert not sms.outbox and not MobileVerification.objects.exists()


def test_sixty_seconds_between_codes_to_one_number(client, db, get_code, capture):
    assert django_settings.REGISTRATION_CODE_RESEND_SECONDS == 60
    first = get_code()
    response = client.post(CODE_URL, {"contact_mobile": MOBILE}, HTTP_HX_REQUEST="true")
    assert re.search(r"验证码已发送到该手机，请(59|60)秒后再重新获取", response.content.decode())
    response = client.post(CODE_URL, registration_post())  # without JavaScript: a 429 page
    assert response.status_code == 429 and "秒后再重新获取" in response.content.decode()
    assert len(sms.outbox) == 1

    _send(now=timezone.now() + timedelta(seconds=61), capture=capture)
    assert len(sms.outbox) == 2 and sms.outbox[0]["body"].count(first) == 1


def test_a_new_code_replaces_the_old_one(client, db, capture):
    start = timezone.now() - timedelta(seconds=120)
    _send(now=start, capture=capture)
    old = code_sent_to()
    _send(now=start + timedelta(seconds=61), capture=capture)
    new = code_sent_to()
    if old != new:
        response = client.post(REGISTER_URL, registration_post(mobile_code=old))
        assert "验证码不正确" in response.context["form"].errors["mobile_code"][0]
    response = client.post(REGISTER_URL, registration_post(mobile_code=new))
    assert response.status_code == 302 and Unit.objects.filter(name=NEW_UNIT).exists()


def test_daily_cap_per_number(db, settings, capture):
    settings.REGISTRATION_CODE_DAILY_PER_MOBILE = 3
    day = timezone.localtime().replace(hour=9, minute=0, second=0, microsecond=0)
    for minute in range(3):
        _send(now=day + timedelta(minutes=minute), capture=capture)
    with pytest.raises(services.CodeRefused, match="该手机号码今日获取验证码次数已达上限，请明日再试"):
        _send(now=day + timedelta(minutes=5), capture=capture)
    # Another number is not affected, and the next day this one may have codes again.
    _send("+8613900139000", now=day + timedelta(minutes=5), capture=capture)
    _send(now=day + timedelta(days=1), capture=capture)
    assert len(sms.outbox) == 5


def test_daily_cap_per_client_address(db, settings, capture):
    settings.REGISTRATION_CODE_DAILY_PER_ADDRESS = 2
    client = Client(REMOTE_ADDR="10.0.0.7")
    with capture(execute=True):
        for mobile in ("13800138001", "13800138002"):
            assert "验证码已发送" in client.post(CODE_URL, {"contact_mobile": mobile}).content.decode()
        response = client.post(CODE_URL, {"contact_mobile": "13800138003"})
    assert response.status_code == 429
    assert "本网络地址今日获取验证码次数已达上限，请明日再试" in response.content.decode()
    assert len(sms.outbox) == 2
    # Another address still gets its code.
    with capture(execute=True):
        other = Client(REMOTE_ADDR="10.0.0.8").post(CODE_URL, {"contact_mobile": "13800138003"})
    assert other.status_code == 200 and len(sms.outbox) == 3


def test_a_failed_sms_is_said_on_the_page(db, settings, capture):
    settings.SMS_BACKEND = "conac.sms.HttpGatewayBackend"
    settings.SMS_GATEWAY_URL = ""  # a gateway that refuses: PermanentSendError
    sent = _send(capture=capture)
    # In a request the commit (and the send) happens inside the service, before the page is drawn.
    assert sent.delivered is False
    line = render_to_string("registry/partials/mobile_code_status.html", {"code_sent": sent, "resend_seconds": 60})
    assert "验证码短信发送失败，请60秒后重新获取" in line and "text-danger" in line


# --- Registering with the code --------------------------------------------------------------------


def test_registration_needs_a_code_for_that_number(client, db):
    response = client.post(REGISTER_URL, registration_post(mobile_code=""))
    assert response.context["form"].errors["mobile_code"] == ["请填写短信验证码。"]
    response = client.post(REGISTER_URL, registration_post(mobile_code="12345"))
    assert response.context["form"].errors["mobile_code"] == ["请输入短信中的6位数字验证码。"]
    response = client.post(REGISTER_URL, registration_post(mobile_code="123456"))
    errors = response.context["form"].errors["mobile_code"]
    assert "请先点击“获取验证码”" in errors[0]
    body = response.content.decode()
    assert 'id="error_1_id_mobile_code"' in body and "请先点击“获取验证码”" in body
    assert f'value="{NEW_UNIT}"' in body
    assert not _created()


def test_a_code_sent_to_another_number_does_not_prove_this_one(client, db, get_code):
    code = get_code("13900139000")
    response = client.post(REGISTER_URL, registration_post(mobile_code=code))  # the form says 13800138000
    assert "请先点击“获取验证码”" in response.context["form"].errors["mobile_code"][0]
    mine = get_code()
    if mine != code:
        response = client.post(REGISTER_URL, registration_post(contact_mobile="13900139000", mobile_code=mine))
        assert "验证码不正确" in response.context["form"].errors["mobile_code"][0]
    assert not _created()


def test_full_width_digits_count_as_the_digits(client, db, get_code):
    code = get_code()
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in code)
    response = client.post(REGISTER_URL, registration_post(mobile_code=full_width))
    assert response.status_code == 302 and _created()


def test_five_wrong_entries_void_the_code(client, db, get_code):
    assert django_settings.REGISTRATION_CODE_MAX_TRIES == 5
    code = get_code()
    wrong = f"{(int(code) + 1) % 1000000:06d}"
    for left in (4, 3, 2, 1):
        response = client.post(REGISTER_URL, registration_post(mobile_code=wrong))
        assert response.context["form"].errors["mobile_code"] == [
            f"验证码不正确，请核对短信中的6位数字（还可输入{left}次）。"
        ]
    response = client.post(REGISTER_URL, registration_post(mobile_code=wrong))
    assert "输错次数已达上限，请重新获取验证码" in response.context["form"].errors["mobile_code"][0]
    # The right code is no use now.
    response = client.post(REGISTER_URL, registration_post(mobile_code=code))
    assert "输错次数已达上限" in response.context["form"].errors["mobile_code"][0]
    assert not _created()
    assert MobileVerification.objects.get(mobile=E164).failed_attempts == 5


def test_wrong_tries_count_only_when_the_rest_of_the_form_is_right(client, db, get_code):
    code = get_code()
    client.post(REGISTER_URL, registration_post(mobile_code="999999", name=""))
    assert MobileVerification.objects.get(mobile=E164).failed_attempts == 0
    assert client.post(REGISTER_URL, registration_post(mobile_code=code)).status_code == 302


@pytest.mark.parametrize(("age", "accepted"), [(299, True), (300, False), (3600, False)])
def test_code_is_valid_five_minutes(client, db, capture, age, accepted):
    assert django_settings.REGISTRATION_CODE_TTL == 300
    _send(now=timezone.now() - timedelta(seconds=age), capture=capture)
    response = client.post(REGISTER_URL, registration_post(mobile_code=code_sent_to()))
    if accepted:
        assert response.status_code == 302 and _created()
    else:
        assert response.context["form"].errors["mobile_code"] == ["验证码已过期，请重新获取。"]
        assert not _created()


def test_register_passes_now_to_check_expiry(db, capture):
    sent_at = timezone.now()
    _send(now=sent_at, capture=capture)
    with pytest.raises(services.WrongCode, match="已过期"):
        services.register_with_mobile_code(
            username="newunit",
            password="Abcd12345",
            unit_data=factories.unit_data(contact_mobile=E164),
            mobile_code=code_sent_to(),
            site_url="http://testserver/",
            now=sent_at + timedelta(minutes=5),
        )


def test_a_code_registers_one_unit_only(client, db, get_code):
    code = get_code()
    assert client.post(REGISTER_URL, registration_post(mobile_code=code)).status_code == 302
    again = Client().post(
        REGISTER_URL,
        registration_post(
            username="another", name="另一单位", credit_code=factories.credit_code("11", "110108"), mobile_code=code
        ),
    )
    assert "请先点击“获取验证码”" in again.context["form"].errors["mobile_code"][0]
    assert not Unit.objects.filter(name="另一单位").exists()


# --- The 联系人邮箱: no notice until its link is opened ---------------------------------------------


def _register(client, get_code, capture, **overrides):
    code = get_code()
    sms.outbox.clear()
    with capture(execute=True):
        response = client.post(REGISTER_URL, registration_post(mobile_code=code, **overrides), follow=True)
    assert response.redirect_chain, response.context["form"].errors
    return Unit.objects.get(name=NEW_UNIT), response


def _link_in(message):
    return re.search(r"http://testserver(/register/confirm-email/[^/\s]+/)", message.body).group(1)


def test_unconfirmed_email_gets_no_notice_until_its_link_is_opened(client, db, get_code, capture, office_user):
    unit, done = _register(client, get_code, capture)
    assert "确认邮件已发送至 contact@example.cn" in done.content.decode()
    assert not unit.contact_email_verified
    assert [m.to for m in mail.outbox] == [["contact@example.cn"]]  # the link, nothing else
    link = _link_in(mail.outbox[0])
    mail.outbox.clear()
    sms.outbox.clear()

    # 重置密码 tells the unit's contacts: the proven mobile hears of it, the unproven email does not.
    with capture(execute=True):
        services.reset_unit_password(unit, new_password="Reset12345", actor=office_user)
    assert [m["to"] for m in sms.outbox] == [E164]
    assert mail.outbox == []
    assert not Notice.objects.filter(channel="email", recipient="contact@example.cn", template="password_reset")

    page = client.get(link)
    assert page.status_code == 200 and "确认邮箱" in page.content.decode()
    unit.refresh_from_db()
    assert not unit.contact_email_verified  # opening the link (a mail scanner) confirms nothing

    response = client.post(link)
    assert response.status_code == 200 and "已确认" in response.content.decode()
    unit.refresh_from_db()
    assert unit.contact_email_verified
    assert AuditEntry.objects.filter(object_id=str(unit.pk), action="确认联系人邮箱").exists()

    with capture(execute=True):
        services.reset_unit_password(unit, new_password="Reset67890", actor=office_user)
    assert [m.to for m in mail.outbox] == [["contact@example.cn"]]


def test_the_link_works_once(client, db, get_code, capture):
    _register(client, get_code, capture)
    link = _link_in(mail.outbox[0])
    assert client.post(link).status_code == 200
    again = client.post(link)
    assert again.status_code == 400 and "该邮箱已确认，链接已失效" in again.content.decode()


def test_the_link_expires_after_three_days(client, db, get_code, capture):
    assert django_settings.REGISTRATION_EMAIL_CONFIRM_DAYS == 3
    unit, _ = _register(client, get_code, capture)
    token = _link_in(mail.outbox[0]).split("/")[-2]
    later = timezone.now() + timedelta(days=3, minutes=1)
    with pytest.raises(services.EmailLinkExpired):
        services.confirm_contact_email(token, now=later)
    # Just before its end it still works.
    assert services.confirm_contact_email(token, now=timezone.now() + timedelta(days=2, hours=23)).pk == unit.pk


def test_an_expired_link_offers_a_new_one(client, db, get_code, capture):
    unit, _ = _register(client, get_code, capture)
    old_token = verification.email_token(unit, now=timezone.now() - timedelta(days=4))
    url = f"/register/confirm-email/{old_token}/"
    response = client.post(url, {"action": "confirm"})
    body = response.content.decode()
    assert "链接已过期" in body and "重新发送确认邮件" in body
    unit.refresh_from_db()
    assert not unit.contact_email_verified
    # Registered today: today's confirmation email went out already, so no second one today.
    mail.outbox.clear()
    with capture(execute=True):
        response = client.post(url, {"action": "resend"})
    assert "今天已发送过确认邮件" in response.content.decode() and mail.outbox == []
    # The next day a new link is sent, and it confirms.
    with capture(execute=True):
        sent = services.resend_email_confirmation(
            old_token, site_url="http://testserver/", now=timezone.now() + timedelta(days=1)
        )
    assert sent and len(mail.outbox) == 1
    assert client.post(_link_in(mail.outbox[0])).status_code == 200
    unit.refresh_from_db()
    assert unit.contact_email_verified


def test_a_link_for_an_address_since_changed_does_not_confirm(client, db, get_code, capture, office_user):
    unit, _ = _register(client, get_code, capture)
    link = _link_in(mail.outbox[0])
    data = {f: getattr(unit, f) for f in services.UNIT_FIELDS}
    data["contact_email"] = "office-typed@example.cn"
    services.update_unit(unit, unit_data=data, actor=office_user)
    unit.refresh_from_db()
    assert unit.contact_email_verified  # the office typed it: it vouches for it
    response = client.post(link)
    assert response.status_code == 400 and "联系人邮箱已变更" in response.content.decode()


@pytest.mark.parametrize("token", ["zz-unknown", "eyJ1IjoiMSJ9:abc"])
def test_a_tampered_link_is_refused(client, db, token):
    for response in (client.get(f"/register/confirm-email/{token}/"), client.post(f"/register/confirm-email/{token}/")):
        assert response.status_code == 400 and "链接无效" in response.content.decode()


def test_an_address_vouched_for_elsewhere_is_not_silenced(db, unit, office_user, capture):
    """A stranger typing a staff member's (or a confirmed unit's) address cannot mute it."""
    office_user.email = "staff@bjhd.example.cn"
    office_user.save()
    squatter = factories.make_unit(name="冒用邮箱的单位", contact_email="STAFF@bjhd.example.cn")
    squatter2 = factories.make_unit(name="冒用单位邮箱的单位", contact_email=unit.contact_email)
    Unit.objects.filter(pk__in=[squatter.pk, squatter2.pk]).update(contact_email_verified=False)
    only_here = factories.make_unit(name="未确认邮箱的单位")
    Unit.objects.filter(pk=only_here.pk).update(contact_email_verified=False)
    with capture(execute=True):
        for address in ("staff@bjhd.example.cn", unit.contact_email, only_here.contact_email):
            notices.queue("unit_registered", key=f"t:{address}", context={"unit": unit}, email_to=address)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(["staff@bjhd.example.cn", unit.contact_email])


def test_bulk_notices_skip_unconfirmed_addresses_too(db, unit):
    other = factories.make_unit(name="未确认邮箱的单位")
    Unit.objects.filter(pk=other.pk).update(contact_email_verified=False)
    items = [
        {"key": f"bulk:{u.pk}", "context": {"unit": u}, "email_to": u.contact_email, "sms_to": u.contact_mobile}
        for u in (unit, other)
    ]
    notices.queue_many("unit_registered", items)
    queued = set(Notice.objects.filter(key__startswith="bulk:").values_list("channel", "recipient"))
    assert queued == {
        ("email", unit.contact_email),
        ("sms", unit.contact_mobile),
        ("sms", other.contact_mobile),
    }


def test_staff_made_and_demo_units_count_as_confirmed(db):
    assert factories.make_unit().contact_email_verified
    demo.seed_accounts_and_units()
    assert demo.demo_units().exists() and not demo.demo_units().filter(contact_email_verified=False).exists()


# --- A credit code registered already -----------------------------------------------------------


def test_repeated_credit_code_is_refused_and_its_office_told_once_a_day(client, db, office_user, capture):
    existing = factories.make_unit(username="first", name="先注册的单位", region_code="110108")
    office_user.email = "hd-staff@bjhd.example.cn"
    office_user.save()
    factories.make_staff("hd_staff_noemail", "110108")  # no email: nobody to write to
    other_office = factories.make_staff("sh_staff2", "310000")
    other_office.email = "sh@example.cn"
    other_office.save()
    units_before, audit_before = Unit.objects.count(), AuditEntry.objects.count()

    with capture(execute=True):
        response = client.post(REGISTER_URL, registration_post(credit_code=existing.credit_code))
    assert response.status_code == 200
    assert response.context["form"].errors["credit_code"] == ["该统一社会信用代码已注册，如有疑问请联系同级编办"]
    assert "该统一社会信用代码已注册，如有疑问请联系同级编办" in response.content.decode()
    assert Unit.objects.count() == units_before and not _created()

    [message] = mail.outbox
    assert message.to == ["hd-staff@bjhd.example.cn"]
    assert existing.credit_code in message.body and "先注册的单位" in message.body
    assert NEW_UNIT in message.body and "未经核实" in message.body and "修改" in message.body
    assert AuditEntry.objects.count() == audit_before + 1
    assert AuditEntry.objects.filter(object_id=str(existing.pk), action="重复注册提示").exists()

    # Again the same day: refused the same way, the office is not written to twice.
    with capture(execute=True):
        response = client.post(REGISTER_URL, registration_post(credit_code=existing.credit_code))
    assert "该统一社会信用代码已注册" in response.context["form"].errors["credit_code"][0]
    assert len(mail.outbox) == 1 and AuditEntry.objects.count() == audit_before + 1


# --- Limits per client address ------------------------------------------------------------------


def test_registration_posts_are_limited_per_address(db, settings):
    settings.REGISTRATION_POSTS_PER_ADDRESS = 3
    client = Client(REMOTE_ADDR="10.0.0.9")
    for _ in range(3):
        assert client.post(REGISTER_URL, registration_post(name="")).status_code == 200
    response = client.post(REGISTER_URL, registration_post(name=""))
    assert response.status_code == 429
    assert re.search(r"本网络地址提交新用户注册过于频繁，请(59|60)分钟后再试", response.content.decode())
    assert client.get(REGISTER_URL).status_code == 200  # the page itself still opens
    assert Client(REMOTE_ADDR="10.0.0.10").post(REGISTER_URL, registration_post(name="")).status_code == 200


def test_every_public_form_answers_429_per_address(db, settings, unit_user):
    settings.REGISTRATION_POSTS_PER_ADDRESS = 1
    settings.REGISTRATION_CODE_DAILY_PER_ADDRESS = 1
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 1
    client = Client(REMOTE_ADDR="10.0.0.11")
    client.post(REGISTER_URL, {})
    client.post(CODE_URL, {"contact_mobile": MOBILE})
    client.post("/login/", {"username": "nobody", "password": "Wrong12345"})
    answers = {
        "注册": client.post(REGISTER_URL, {}),
        "验证码": client.post(CODE_URL, {"contact_mobile": "13900139000"}),
        "登录": client.post("/login/", {"username": "alice", "password": factories.PASSWORD}),
    }
    for name, response in answers.items():
        assert response.status_code == 429, name
        assert "本网络地址" in response.content.decode(), name


# --- make run's demo ------------------------------------------------------------------------------


def test_the_page_says_where_the_demo_codes_are(client, db, settings, tmp_path, capture):
    assert "var/sms/" not in client.get(REGISTER_URL).content.decode()  # the tests' backend: no note

    settings.SMS_BACKEND = "conac.sms.FileBackend"
    settings.SMS_FILE_PATH = str(Path(django_settings.BASE_DIR) / "var" / "sms")
    page = client.get(REGISTER_URL).content.decode()
    assert "演示环境：短信不会真正发出，验证码写在服务器的 <code>var/sms/</code> 目录下" in page

    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    with capture(execute=True):
        response = client.post(CODE_URL, {"contact_mobile": MOBILE}, HTTP_HX_REQUEST="true")
    assert "演示环境" in response.content.decode()
    [written] = list((tmp_path / "sms").iterdir())
    text = written.read_text(encoding="utf-8")
    assert text.startswith(f"To: {E164}") and re.search(r"验证码为[0-9]{6}", text)
