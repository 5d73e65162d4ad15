"""What the browser tests share: finding a control by its label, signing in and out, screenshots."""

import os
import re
from pathlib import Path

from django.conf import settings
from playwright.sync_api import Page, expect

from tests import factories

# By default under var/screenshots (not in git), so a test run leaves the tree clean;
# ``UPDATE_SCREENSHOTS=1 make test`` refreshes the README's pictures in docs/screenshots.
SCREENSHOTS = Path(settings.BASE_DIR) / (
    "docs/screenshots" if os.environ.get("UPDATE_SCREENSHOTS") == "1" else "var/screenshots"
)
SCREENSHOTS.mkdir(parents=True, exist_ok=True)


def field(scope, label):
    """The form control labelled ``label``; required fields carry a trailing ``*``."""
    return scope.get_by_label(re.compile(rf"^\s*{re.escape(label)}\*?\s*$"))


def submit_login(page: Page, base_url, username, password=factories.PASSWORD):
    """Fill and send the 登录 form, whatever the outcome."""
    page.goto(f"{base_url}/login/")
    field(page, "用户名").fill(username)
    field(page, "密码").fill(password)
    page.get_by_role("button", name="登录", exact=True).click()


def log_in(page: Page, base_url, username, password=factories.PASSWORD):
    submit_login(page, base_url, username, password)
    expect(page.get_by_role("button", name="退出")).to_be_visible()


def log_out(page: Page):
    page.get_by_role("button", name="退出").click()
    expect(page.get_by_role("button", name="退出")).to_have_count(0)
