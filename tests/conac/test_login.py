"""登录 and 退出: lockout after repeated failures (django-axes), sessions, CSRF."""

import re

import pytest
from django.conf import settings
from django.test import Client

from tests import factories

LOCKED = "登录失败次数过多，该账号已被暂时锁定"


def _login(client, username, password, follow=False):
    return client.post("/login/", {"username": username, "password": password}, follow=follow)


def _signed_in(client):
    return "_auth_user_id" in client.session


def test_login_with_the_right_password_goes_home(client, unit_user):
    response = _login(client, "alice", factories.PASSWORD)
    assert response.status_code == 302 and response.url == "/"
    assert _signed_in(client)
    home = client.get("/").content.decode()
    assert "海淀区测试局" in home and "北京市海淀区委编办" in home and "退出" in home


def test_login_follows_next(client, office_user):
    response = client.post(
        "/login/?next=/units/", {"username": "hd_staff", "password": factories.PASSWORD, "next": "/units/"}
    )
    assert response.status_code == 302 and response.url == "/units/"


def test_wrong_password_is_refused_in_chinese(client, unit_user):
    response = _login(client, "alice", "Wrong12345", follow=True)
    assert response.redirect_chain[0][0].startswith("/login/?form=")  # PRG: a reload re-sends nothing
    assert not _signed_in(client)
    errors = " ".join(response.context["form"].non_field_errors())
    assert "用户名" in errors and "密码" in errors
    assert errors in response.content.decode()


def test_five_failures_lock_the_account_even_for_the_right_password(client, unit_user):
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "alice", "Wrong12345")
    response = _login(client, "alice", factories.PASSWORD)
    body = response.content.decode()
    assert LOCKED in body and "同级编办" in body
    assert response.status_code == 429
    assert not _signed_in(client)
    assert re.search(r"请(2[89]|30)分钟后再试", body)  # the remaining wait, not a fixed text
    # A stranger at another address cannot lock the owner out: the lock is account + address.
    other = Client(REMOTE_ADDR="10.1.2.3")
    assert _login(other, "alice", factories.PASSWORD).status_code == 302 and _signed_in(other)


def test_one_address_failing_across_accounts_is_held_off(client, settings, unit_user, other_unit_user):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 6
    for name in ["alice", "bob", "carol", "dave", "erin", "frank"]:
        _login(client, name, "Wrong12345")
    response = _login(client, "bob", factories.PASSWORD)
    assert response.status_code == 429
    assert "本网络地址登录失败次数过多" in response.content.decode() and not _signed_in(client)
    # Other addresses are not affected.
    assert _login(Client(REMOTE_ADDR="10.9.9.9"), "bob", factories.PASSWORD).status_code == 302


def test_lockout_is_per_account(client, unit_user, other_unit_user):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "alice", "Wrong12345")
    response = _login(client, "bob", factories.PASSWORD)
    assert response.status_code == 302 and _signed_in(client)


def test_four_failures_then_success_resets_the_count(client, unit_user):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(client, "alice", "Wrong12345")
    assert _login(client, "alice", factories.PASSWORD).status_code == 302
    client.post("/logout/")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(client, "alice", "Wrong12345")
    # Had the earlier failures still counted this would be locked.
    assert _login(client, "alice", factories.PASSWORD).status_code == 302


def test_session_ends_with_the_browser_and_after_inactivity(client, unit_user):
    response = _login(client, "alice", factories.PASSWORD)
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["expires"] == "" and cookie["max-age"] == ""  # a browser-session cookie
    assert cookie["httponly"]
    assert client.session.get_expire_at_browser_close()
    assert 0 < settings.SESSION_COOKIE_AGE <= 8 * 60 * 60
    # Inactivity, not login time, counts: the expiry is renewed by use (at most once every
    # SESSION_REFRESH_SECONDS, conac.sessions; tests/conac/test_production_settings.py).
    assert "conac.sessions.RefreshSessionMiddleware" in settings.MIDDLEWARE
    assert 0 < settings.SESSION_REFRESH_SECONDS < settings.SESSION_COOKIE_AGE


def test_expired_session_is_sent_to_login(client, unit_user):
    _login(client, "alice", factories.PASSWORD)
    session = client.session
    session.set_expiry(-1)
    session.save()
    response = client.get("/")
    assert response.status_code == 302 and response.url.startswith("/login/")


def test_logout_is_a_post(client, unit_user):
    _login(client, "alice", factories.PASSWORD)
    assert client.get("/logout/").status_code == 405
    assert _signed_in(client)
    response = client.post("/logout/")
    assert response.status_code == 302 and response.url == "/login/"
    assert not _signed_in(client)
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("url", ["/register/", "/login/", "/logout/"])
def test_posts_without_csrf_token_are_refused(db, url):
    client = Client(enforce_csrf_checks=True)
    response = client.post(url, {"username": "alice", "password": factories.PASSWORD})
    assert response.status_code == 403


def test_csrf_token_from_the_form_is_accepted(db, unit_user):
    client = Client(enforce_csrf_checks=True)
    page = client.get("/login/")
    token = page.context["csrf_token"]
    assert f'name="csrfmiddlewaretoken" value="{token}"' in page.content.decode()
    response = client.post(
        "/login/", {"username": "alice", "password": factories.PASSWORD, "csrfmiddlewaretoken": str(token)}
    )
    assert response.status_code == 302 and _signed_in(client)


# --- 修改密码: everyone changes their own password ----------------------------------------


def _change(client, old, new, confirm=None, follow=False):
    return client.post(
        "/account/password/",
        {"old_password": old, "new_password": new, "new_password_confirm": new if confirm is None else confirm},
        follow=follow,
    )


def test_unit_changes_its_own_password_and_stays_signed_in(client, unit_user):
    _login(client, "alice", factories.PASSWORD)
    page = client.get("/account/password/").content.decode()
    assert "原密码" in page and "新密码" in page and "确认密码" in page
    response = _change(client, factories.PASSWORD, "Mine12345")
    assert response.status_code == 302 and response.url == "/"
    assert _signed_in(client)
    assert "密码已修改" in client.get("/").content.decode()
    assert _login(Client(), "alice", "Mine12345").status_code == 302
    from conac.models import AuditEntry

    assert AuditEntry.objects.filter(action="修改密码", actor=unit_user).exists()


@pytest.mark.parametrize(
    ("old", "new", "confirm", "field", "message"),
    [
        ("Wrong12345", "Mine12345", None, "old_password", "原密码不正确"),
        (factories.PASSWORD, "short1", None, "new_password", "8-16位半角英文和数字混合"),
        (factories.PASSWORD, "onlyletters", None, "new_password", "8-16位半角英文和数字混合"),
        (factories.PASSWORD, "Mine12345", "Mine54321", "new_password_confirm", "两次输入的密码不一致"),
    ],
)
def test_bad_own_password_change_is_refused(client, unit_user, old, new, confirm, field, message):
    _login(client, "alice", factories.PASSWORD)
    response = _change(client, old, new, confirm, follow=True)
    assert response.redirect_chain[0][0].startswith("/account/password/?form=")  # PRG
    assert any(message in e for e in response.context["form"].errors[field])
    assert _login(Client(), "alice", factories.PASSWORD).status_code == 302


def test_office_staff_change_their_own_password_too(client, office_user):
    _login(client, "hd_staff", factories.PASSWORD)
    assert _change(client, factories.PASSWORD, "Staff54321").status_code == 302
    assert _login(Client(), "hd_staff", "Staff54321").status_code == 302


# --- 新用户注册 and 忘记密码 on the login page -----------------------------------------------------

MANUAL = settings.BASE_DIR.parent / "shared" / "reference" / "conac-operations-manual.zh.txt"


def _login_page(client):
    from lxml import html

    response = client.get("/login/")
    assert response.status_code == 200
    return html.fromstring(response.content)


def test_new_user_registration_is_a_primary_action_on_the_login_page(client, db):
    page = _login_page(client)
    (link,) = [a for a in page.xpath("//a") if a.text_content().strip() == "新用户注册"]
    assert link.get("href") == "/register/"
    # A full-width primary button, not a small secondary link.
    assert {"btn", "btn-primary", "w-100"} <= set(link.get("class").split())


def test_the_login_page_tells_a_unit_who_resets_a_forgotten_password_as_the_manual_says(client, db):
    manual = MANUAL.read_text(encoding="utf-8").splitlines()
    question = manual.index("（四）注册单位忘记密码如何处理？")
    answer = manual[question + 1].strip()
    assert answer.startswith("使用编办管理员账号在“用户管理——申报单位管理/缴费”菜单中")
    page = _login_page(client)
    (help_box,) = page.xpath("//*[@id='forgot-password-help']")
    text = help_box.text_content()
    assert "忘记密码？" in text and "同级编办" in text and "常见问题（四）" in text
    (quote,) = help_box.xpath(".//blockquote")
    assert quote.text_content().strip() == answer
