"""双重验证 in a browser, as staff meet it with enforcement on: 登录 → 绑定 with the secret the page
shows → 恢复码 shown once → 退出 → 登录 → a wrong 验证码 is refused → a 恢复码 signs in."""

import re
from base64 import b32decode

from django_otp.oath import totp
from playwright.sync_api import Page, expect

from tests import factories
from tests.browser.pages import SCREENSHOTS, field, log_out, submit_login


def test_staff_bind_an_authenticator_and_sign_in_with_a_second_step(page: Page, live_server, settings):
    settings.STAFF_2FA_REQUIRED = True
    factories.make_staff("hd_2fa", "110108")
    base = live_server.url

    submit_login(page, base, "hd_2fa")
    expect(page.get_by_role("heading", name="双重验证——绑定身份验证器")).to_be_visible()
    expect(page.get_by_text("请先绑定身份验证器")).to_be_visible()
    expect(page.locator("#two-factor-qr svg")).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "two-factor-bind.png", full_page=True)
    # What an authenticator app does with the secret typed in by hand.
    key = b32decode(page.locator("#two-factor-secret").inner_text().replace(" ", ""))
    field(page, "验证码").fill(f"{totp(key):06d}")
    page.get_by_role("button", name="绑定").click()
    expect(page.get_by_text("本页只显示一次")).to_be_visible()
    codes = [c.strip() for c in page.locator("#recovery-codes li").all_inner_texts()]
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z2-7]{4}-[a-z2-7]{4}", c) for c in codes)
    page.get_by_role("link", name="已保存，继续").click()
    expect(page.get_by_role("button", name="退出")).to_be_visible()
    log_out(page)

    submit_login(page, base, "hd_2fa")
    expect(page.get_by_role("heading", name="双重验证")).to_be_visible()
    field(page, "验证码或恢复码").fill(f"{(totp(key) + 500_000) % 1_000_000:06d}")
    page.get_by_role("button", name="验证").click()
    expect(page.locator(".invalid-feedback").get_by_text("验证码错误，请重新输入")).to_be_visible()
    expect(page.locator("[data-error-summary]")).to_contain_text("验证码错误，请重新输入")
    field(page, "验证码或恢复码").fill(codes[0])
    page.get_by_role("button", name="验证").click()
    expect(page.locator("#whoami")).to_contain_text("北京市海淀区委编办")
