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


# --- Page checks: horizontal scroll and axe-core --------------------------------------------

# axe-core, vendored from the npm registry for the tests only (tests/browser/vendor/README.txt);
# injected into the page under test, never served by the application.
AXE_SCRIPT = Path(__file__).with_name("vendor") / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = ("serious", "critical")
# Best-practice rules (not WCAG criteria by themselves) that issue 12 found and fixed: kept fixed.
BLOCKING_BEST_PRACTICES = ("heading-order", "empty-table-header")


def page_overflow(page: Page):
    """How many CSS pixels the page scrolls sideways (0 when it fits its window)."""
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def axe_violations(page: Page, rules=None):
    """axe-core's blocking violations on the page as it stands now: WCAG 2.1 A/AA ones of serious or
    critical impact, and the best practices above; or only ``rules`` (rule ids) when given.
    Each as {"id", "impact", "help", "targets": ["selector :: why", ...]}."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_SCRIPT))
    return page.evaluate(
        """async ([tags, impacts, practices, rules]) => {
          const runOnly = rules ? {type: "rule", values: rules} : {type: "tag", values: [...tags, "best-practice"]};
          const result = await axe.run(document, {runOnly, resultTypes: ["violations"]});
          const blocking = v => rules || practices.includes(v.id)
            || (impacts.includes(v.impact) && v.tags.some(t => tags.includes(t)));
          return result.violations.filter(blocking).map(v => ({
            id: v.id, impact: v.impact, help: v.help,
            targets: v.nodes.map(n => n.target.join(" ") + " :: " + (n.failureSummary || "").split("\\n").slice(1).join(" ").trim()),
          }));
        }""",
        [AXE_TAGS, list(BLOCKING_IMPACTS), list(BLOCKING_BEST_PRACTICES), rules],
    )


def describe_violations(violations, limit=5):
    """Readable lines for a failure message: rule, impact, help, then the first few elements."""
    lines = []
    for v in violations:
        lines.append(f"  {v['id']} ({v['impact']}): {v['help']}")
        lines.extend(f"      {target[:240]}" for target in v["targets"][:limit])
        if len(v["targets"]) > limit:
            lines.append(f"      … and {len(v['targets']) - limit} more")
    return lines


def say_yes(page: Page, question=None):
    """确定 in the dialog an irreversible action asks first (static/js/conac.js), after checking its question."""
    dialog = page.locator("dialog#confirm-dialog")
    if question:
        expect(dialog).to_contain_text(question)
    dialog.get_by_role("button", name="确定").click()
    expect(dialog).to_be_hidden()
