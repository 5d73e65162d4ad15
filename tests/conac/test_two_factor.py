"""双重验证: staff and administrators bind an authenticator app, then give its code after the password."""

import re
from base64 import b32decode

import pytest
from django.conf import settings
from django.test import Client
from django_otp.oath import TOTP, hotp, totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from conac.models import AuditEntry
from conac.two_factor import services
from tests import factories

ENROL_URL = "/account/two-factor/"
VERIFY_URL = "/account/two-factor/verify/"
RECOVERY_URL = "/account/two-factor/recovery-codes/"


@pytest.fixture(autouse=True)
def _no_backoff(settings):
    """django-otp's back-off (1, 2, 4… s after a failure) would refuse a right code typed at once."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def next_code(user):
    """The code the user's app shows now (or the next one, when the current one was used)."""
    device = TOTPDevice.objects.filter(user=user).latest("pk")
    now = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).t()
    return f"{hotp(device.bin_key, max(now, device.last_t + 1), digits=device.digits):06d}"


def enrol(user):
    """Bind an authenticator the way the page does; returns the recovery codes."""
    services.enrolment_device(user)
    _device, codes = services.confirm_enrolment(user, next_code(user), actor=user)
    return codes


def login(client, user, next_url=None):
    data = {"username": user.username, "password": factories.PASSWORD}
    if next_url:
        data["next"] = next_url
    return client.post("/login/" + (f"?next={next_url}" if next_url else ""), data)


def signed_in(client):
    return "_auth_user_id" in client.session


def verified(client):
    return "otp_device_id" in client.session


# --- 绑定 ----------------------------------------------------------------------------------------


def test_staff_bind_an_authenticator_with_the_qr_code_or_the_secret(client_for, office_user):
    client = client_for(office_user)
    page = client.get(ENROL_URL)
    body = page.content.decode()
    assert page.status_code == 200
    assert "绑定身份验证器" in body and "<svg" in body and "验证码" in body
    assert "no-store" in page["Cache-Control"]  # the secret is never cached
    secret = re.search(r'id="two-factor-secret"[^>]*>([A-Z2-7 ]+)<', body).group(1)
    assert client.get(ENROL_URL).content.decode().count(secret) == 1  # a reload keeps the same secret
    key = b32decode(secret.replace(" ", ""))
    assert not TOTPDevice.objects.filter(user=office_user, confirmed=True).exists()

    # What the user's app computes from the secret it was given (any authenticator app would).
    wrong = f"{(totp(key) + 1) % 1_000_000:06d}"
    response = client.post(ENROL_URL, {"code": wrong}, follow=True)  # PRG: back to the page as a GET
    assert response.redirect_chain[0][0].startswith(f"{ENROL_URL}?") and "验证码不正确" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=office_user, confirmed=True).exists()

    response = client.post(ENROL_URL, {"code": f"{totp(key):06d}"})
    body = response.content.decode()
    assert response.status_code == 200 and "身份验证器已绑定" in body and "本页只显示一次" in body
    codes = re.findall(r"<li[^>]*>([a-z2-7]{4}-[a-z2-7]{4})</li>", body)
    assert len(codes) == 10 == StaticToken.objects.filter(device__user=office_user).count()
    assert TOTPDevice.objects.get(user=office_user, confirmed=True).bin_key == key
    assert verified(client)
    assert AuditEntry.objects.filter(action="绑定双重验证", actor=office_user, object_id=str(office_user.pk)).exists()
    # Once bound, the page shows the state, never the secret again.
    state = client.get(ENROL_URL).content.decode()
    assert "已绑定" in state and "剩余 10 个" in state and secret not in state and "<svg" not in state


def test_conac_staff_and_administrators_can_bind_too(client_for, conac_user, admin_user):
    for user in (conac_user, admin_user):
        client = client_for(user)
        assert client.get(ENROL_URL).status_code == 200
        services.enrolment_device(user)
        assert client.post(ENROL_URL, {"code": next_code(user)}).status_code == 200
        assert TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def test_the_navbar_links_the_page_for_staff_only(client_for, office_user, unit_user):
    assert f'href="{ENROL_URL}"' in client_for(office_user).get("/").content.decode()
    assert f'href="{ENROL_URL}"' not in client_for(unit_user).get("/").content.decode()


# --- 验证 at login ---------------------------------------------------------------------------------


def test_login_asks_enrolled_staff_for_the_code_before_anything_else(office_user):
    enrol(office_user)
    client = Client()
    response = login(client, office_user, next_url="/units/")
    assert response.status_code == 302 and response.url == f"{VERIFY_URL}?next=%2Funits%2F"
    assert signed_in(client) and not verified(client)
    # Only the password so far: every page sends the user back to the second step.
    for url in ["/", "/units/", "/account/password/", "/domains/search/"]:
        page = client.get(url)
        assert page.status_code == 302 and page.url.startswith(VERIFY_URL), url
    # A partial fetched by htmx sends the whole page there, and back to that page afterwards.
    partial = client.get("/units/?unit=x", headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/units/"})
    assert partial["HX-Redirect"] == f"{VERIFY_URL}?next=%2Funits%2F"
    # A password alone never binds another authenticator.
    assert client.get(ENROL_URL).url.startswith(VERIFY_URL)
    assert client.post(ENROL_URL, {"code": "123456", "rebind": "1"}).url.startswith(VERIFY_URL)
    assert TOTPDevice.objects.filter(user=office_user).count() == 1

    page = client.get(response.url).content.decode()
    assert "双重验证" in page and "验证码" in page and "恢复码" in page
    response = client.post(VERIFY_URL, {"code": next_code(office_user), "next": "/units/"})
    assert response.status_code == 302 and response.url == "/units/"
    assert verified(client)
    assert client.get("/units/").status_code == 200


def test_verification_survives_only_in_its_own_session(office_user):
    enrol(office_user)
    first = Client()
    login(first, office_user)
    first.post(VERIFY_URL, {"code": next_code(office_user)})
    second = Client()
    login(second, office_user)
    assert second.get("/").url.startswith(VERIFY_URL)
    assert first.get("/").status_code == 200


def test_a_used_code_cannot_be_replayed(office_user):
    enrol(office_user)
    code = next_code(office_user)
    first = Client()
    login(first, office_user)
    assert first.post(VERIFY_URL, {"code": code}).status_code == 302
    second = Client()
    login(second, office_user)
    response = second.post(VERIFY_URL, {"code": code}, follow=True)
    assert response.redirect_chain and "验证码错误" in response.content.decode()


def test_wrong_codes_are_refused_in_chinese_and_end_the_sign_in_at_the_limit(office_user):
    enrol(office_user)
    client = Client()
    login(client, office_user)
    wrong = f"{(int(next_code(office_user)) + 1) % 1_000_000:06d}"
    response = client.post(VERIFY_URL, {"code": wrong}, follow=True)
    body = response.content.decode()
    assert (
        response.redirect_chain[0][0].startswith(f"{VERIFY_URL}?")
        and "验证码错误，请重新输入" in body
        and "还可尝试4次" in body
    )
    assert not verified(client)
    assert client.get("/").url.startswith(VERIFY_URL)
    # Not a code at all: said so, and not counted.
    response = client.post(VERIFY_URL, {"code": "12ab"}, follow=True)
    assert "6位数字验证码" in response.content.decode()
    for _ in range(settings.AXES_FAILURE_LIMIT - 2):
        assert "验证码错误" in client.post(VERIFY_URL, {"code": wrong}, follow=True).content.decode()
    response = client.post(VERIFY_URL, {"code": wrong})
    body = response.content.decode()
    assert response.status_code == 429 and "验证码错误次数过多" in body
    assert re.search(r"请(2[89]|30)分钟后再试", body)
    assert not signed_in(client)
    # The password again does not reopen the door, even with the right code.
    again = Client()
    login(again, office_user)
    response = again.post(VERIFY_URL, {"code": next_code(office_user)})
    assert response.status_code == 429 and not signed_in(again)


def test_django_otp_back_off_is_explained_and_not_counted(settings, office_user):
    settings.OTP_TOTP_THROTTLE_FACTOR = 60
    enrol(office_user)
    client = Client()
    login(client, office_user)
    client.post(VERIFY_URL, {"code": f"{(int(next_code(office_user)) + 1) % 1_000_000:06d}"})
    response = client.post(VERIFY_URL, {"code": next_code(office_user)}, follow=True)
    body = response.content.decode()
    assert "尝试过于频繁" in body and "秒后再试" in body and "还可尝试" not in body
    assert not verified(client)


def test_a_recovery_code_signs_in_once(office_user):
    codes = enrol(office_user)
    client = Client()
    login(client, office_user)
    response = client.post(VERIFY_URL, {"code": codes[0].upper().replace("-", " ")})
    assert response.status_code == 302 and response.url == "/" and verified(client)
    assert StaticToken.objects.filter(device__user=office_user).count() == 9
    client.post("/logout/")
    login(client, office_user)
    response = client.post(VERIFY_URL, {"code": codes[0]}, follow=True)
    assert response.redirect_chain and "验证码错误" in response.content.decode() and not verified(client)
    assert client.post(VERIFY_URL, {"code": codes[1]}).status_code == 302 and verified(client)


def test_recovery_codes_can_be_regenerated_and_the_old_ones_stop_working(office_user):
    old = enrol(office_user)
    client = Client()
    login(client, office_user)
    client.post(VERIFY_URL, {"code": old.pop()})  # signed in with a recovery code (phone left at home)
    assert client.get(RECOVERY_URL).status_code == 405
    response = client.post(RECOVERY_URL)
    new = re.findall(r"<li[^>]*>([a-z2-7]{4}-[a-z2-7]{4})</li>", response.content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    assert client.get("/units/").status_code == 200  # the session stays signed in
    assert AuditEntry.objects.filter(action="重新生成恢复码", actor=office_user).exists()
    client.post("/logout/")
    login(client, office_user)
    assert "验证码错误" in client.post(VERIFY_URL, {"code": old[0]}, follow=True).content.decode()
    assert client.post(VERIFY_URL, {"code": new[0]}).status_code == 302


def test_recovery_codes_need_an_authenticator_first(client_for, office_user):
    client = client_for(office_user)
    response = client.post(RECOVERY_URL, follow=True)
    assert "请先绑定身份验证器" in response.content.decode()
    assert not StaticToken.objects.exists()


def test_changing_the_authenticator_replaces_it_and_the_recovery_codes(office_user):
    old_codes = enrol(office_user)
    old = TOTPDevice.objects.get(user=office_user, confirmed=True)
    client = Client()
    login(client, office_user)
    client.post(VERIFY_URL, {"code": next_code(office_user)})
    page = client.get(ENROL_URL + "?rebind=1").content.decode()
    assert "更换身份验证器" in page and "<svg" in page
    assert TOTPDevice.objects.filter(user=office_user, confirmed=True).get() == old  # not yet replaced
    response = client.post(ENROL_URL, {"code": next_code(office_user), "rebind": "1"})
    assert response.status_code == 200 and "本页只显示一次" in response.content.decode()
    assert TOTPDevice.objects.get(user=office_user).pk != old.pk
    assert not StaticToken.objects.filter(token=old_codes[0].replace("-", "")).exists()


# --- Enforcement ---------------------------------------------------------------------------------


def test_enforcement_is_off_by_default_and_staff_without_an_authenticator_sign_in_as_before(office_user):
    assert settings.STAFF_2FA_REQUIRED is False
    client = Client()
    response = login(client, office_user)
    assert response.status_code == 302 and response.url == "/"
    assert client.get("/units/").status_code == 200


def test_enforcement_on_sends_staff_without_an_authenticator_to_bind_one(settings, conac_user):
    settings.STAFF_2FA_REQUIRED = True
    client = Client()
    response = login(client, conac_user, next_url="/domains/search/")
    assert response.status_code == 302 and response.url == f"{ENROL_URL}?next=%2Fdomains%2Fsearch%2F"
    assert client.get("/domains/search/").url.startswith(ENROL_URL)
    assert client.get(VERIFY_URL).url.startswith(ENROL_URL)
    page = client.get(response.url).content.decode()
    assert "请先绑定身份验证器" in page
    services.enrolment_device(conac_user)
    response = client.post(ENROL_URL, {"code": next_code(conac_user), "next": "/domains/search/"})
    assert 'href="/domains/search/"' in response.content.decode()
    assert client.get("/domains/search/").status_code == 200


def test_units_are_never_asked(settings, unit_user):
    settings.STAFF_2FA_REQUIRED = True
    # Even a device bound to a unit's account by some other way is ignored.
    TOTPDevice.objects.create(user=unit_user, name="x", confirmed=True)
    client = Client()
    response = login(client, unit_user)
    assert response.status_code == 302 and response.url == "/"
    assert client.get("/domains/mine/").status_code == 200
    assert client.get(ENROL_URL).status_code == 403


@pytest.mark.parametrize("url", [ENROL_URL, VERIFY_URL, RECOVERY_URL])
def test_outsiders_are_kept_out(client_for, unit_user, url):
    anonymous = client_for(None)
    for response in (anonymous.get(url), anonymous.post(url, {"code": "123456"})):
        assert response.status_code == 302 and response.url.startswith("/login/")
    unit = client_for(unit_user)
    assert unit.get(url).status_code == 403
    assert unit.post(url, {"code": "123456"}).status_code == 403
    assert not TOTPDevice.objects.exists()


def test_next_never_leaves_the_site(office_user):
    enrol(office_user)
    client = Client()
    login(client, office_user)
    response = client.post(VERIFY_URL, {"code": next_code(office_user), "next": "//evil.example/"})
    assert response.status_code == 302 and response.url == "/"


# --- The admin -----------------------------------------------------------------------------------


def test_the_admin_requires_the_second_step_when_enforced(settings, client_for, admin_user):
    settings.STAFF_2FA_REQUIRED = True
    client = client_for(admin_user)
    response = client.get("/admin/")
    assert response.status_code == 302 and response.url == f"{ENROL_URL}?next=%2Fadmin%2F"
    assert client.get("/admin/registry/unit/").url.startswith(ENROL_URL)
    services.enrolment_device(admin_user)
    client.post(ENROL_URL, {"code": next_code(admin_user)})
    assert client.get("/admin/").status_code == 200


def test_an_enrolled_administrator_signing_in_at_the_admin_login_is_asked_too(admin_user):
    admin_user.set_password(factories.PASSWORD)
    admin_user.save()
    enrol(admin_user)
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/", {"username": admin_user.username, "password": factories.PASSWORD}
    )
    assert response.status_code == 302
    response = client.get("/admin/")
    assert response.status_code == 302 and response.url.startswith(VERIFY_URL)
    assert client.post(VERIFY_URL, {"code": next_code(admin_user), "next": "/admin/"}).url == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert client.post("/admin/logout/").status_code in (200, 302)


def test_an_administrator_resets_a_lost_authenticator_with_an_audit_entry(
    settings, client_for, admin_user, office_user
):
    enrol(office_user)
    staff = Client()
    login(staff, office_user)
    staff.post(VERIFY_URL, {"code": next_code(office_user)})
    assert staff.get("/units/").status_code == 200

    admin = client_for(admin_user)
    listing = admin.get("/admin/otp_totp/totpdevice/")
    assert listing.status_code == 200 and office_user.username in listing.content.decode()
    device = TOTPDevice.objects.get(user=office_user)
    assert device.key not in admin.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/").content.decode()
    response = admin.post(
        "/admin/otp_totp/totpdevice/", {"action": "reset_two_factor", "_selected_action": [device.pk]}, follow=True
    )
    assert "已重置 1 个用户的双重验证" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=office_user).exists()
    assert not StaticToken.objects.filter(device__user=office_user).exists()
    entry = AuditEntry.objects.get(action="重置双重验证", object_id=str(office_user.pk))
    assert entry.actor == admin_user and entry.data == {"身份验证器": 1, "恢复码": 1}

    # The lost phone no longer opens the session it verified; with enforcement on, the user binds anew.
    settings.STAFF_2FA_REQUIRED = True
    assert staff.get("/units/").url.startswith(ENROL_URL)


def test_deleting_a_device_in_the_admin_is_audited(client_for, admin_user, office_user):
    enrol(office_user)
    device = TOTPDevice.objects.get(user=office_user)
    admin = client_for(admin_user)
    assert admin.get("/admin/otp_totp/totpdevice/add/").status_code == 403  # nobody sets another's secret
    response = admin.post(f"/admin/otp_totp/totpdevice/{device.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    assert AuditEntry.objects.filter(
        action="删除双重验证设备", object_id=str(office_user.pk), actor=admin_user
    ).exists()
