"""域名申请 → 编办 审核不通过 → the unit re-submits → 编办 审核通过 → CONAC 审核通过 → 待缴费,
in headless Chromium, by the labels the manual names, with both notices sent to the unit."""

import re

import idna
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from playwright.sync_api import Page, expect

from conac import sms
from conac.models import Notice
from registry.models import Domain, DomainStatus, User
from review.models import CommonReason, Decision, Outcome, Tier
from tests import factories
from tests.browser.pages import SCREENSHOTS, field, log_in, log_out, say_yes

UNIT_NAME = "北京市海淀区教育委员会"
LABEL = "海淀教育"
FULL_NAME = f"{LABEL}.政务"
FULL_ALABEL = f"{idna.encode(LABEL).decode()}.xn--zfr164b"
COMMON_REASON = "域名与单位名称不符"
REASON = f"{COMMON_REASON}，请使用单位规范简称。"


def open_menu(page: Page, item):
    menu = page.get_by_role("navigation")
    menu.get_by_role("button", name="网上名称管理").click()
    menu.get_by_role("link", name=item, exact=True).click()
    expect(page.get_by_role("heading", name=f"网上名称管理——{item}")).to_be_visible()


def queue_row(page: Page):
    return page.locator("#queue tbody tr").filter(has_text=FULL_NAME)


def tick_our_domain(page: Page):
    page.get_by_role("checkbox", name=f"选择 {FULL_NAME}").check()


def application_row(page: Page):
    return page.locator("#applications tbody tr").filter(has_text=FULL_NAME)


def test_unit_applies_office_rejects_unit_resubmits_both_tiers_approve(live_server, page: Page):
    base = live_server.url
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    unit = factories.make_unit(username="hd_edu", name=UNIT_NAME, region_code="110108")
    factories.make_staff("hd_staff", "110108")
    factories.make_staff("conac_staff", None, role=User.Role.CONAC)
    CommonReason.objects.create(text=COMMON_REASON)
    # Registration greets the unit too; only what the review flow sends is counted below.
    sms.outbox.clear()
    mail.outbox.clear()

    # 1. The unit applies: first a name with a space, refused at the field; then a good one.
    log_in(page, base, "hd_edu")
    open_menu(page, "域名申请")
    expect(field(page, "域名后缀")).to_have_value(".政务")
    field(page, "域名").fill("海淀 教育")
    field(page, "注册年限").select_option(label="2年")
    page.get_by_role("button", name="提交", exact=True).click()
    label_input = field(page, "域名")
    expect(label_input).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(page.locator("#div_id_label .invalid-feedback")).to_contain_text("域名不能包含空格")
    expect(page.locator(".is-invalid")).to_have_count(1)  # 域名后缀 and 注册年限 were accepted
    expect(label_input).to_have_value("海淀 教育")
    assert not Domain.objects.filter(unit=unit).exists()

    label_input.fill(LABEL)
    page.get_by_role("button", name="提交", exact=True).click()
    expect(page.get_by_role("alert").filter(has_text="已提交")).to_contain_text(FULL_NAME)
    expect(application_row(page)).to_contain_text("待审核")
    expect(application_row(page)).to_contain_text("2年")
    domain = Domain.objects.get(unit=unit)
    assert (domain.status, domain.years, domain.review_round) == (DomainStatus.PENDING_LOCAL, 2, 1)
    log_out(page)

    # 2. 海淀区's office rejects it, starting from a common reason and editing it.
    log_in(page, base, "hd_staff")
    open_menu(page, "待审核域名")
    row = queue_row(page)
    expect(row).to_have_count(1)
    for text in (UNIT_NAME, unit.credit_code, FULL_NAME, FULL_ALABEL):
        expect(row).to_contain_text(text)
    expect(page.get_by_role("columnheader", name="统一社会信用代码")).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "domain-queue.png", full_page=True)

    tick_our_domain(page)
    page.get_by_label("常用不通过原因").select_option(label=COMMON_REASON)
    opinion = field(page, "审核意见")
    expect(opinion).to_have_value(COMMON_REASON)
    opinion.fill(REASON)
    page.get_by_role("button", name="审核不通过", exact=True).click()
    say_yes(page)
    expect(page.get_by_role("alert").filter(has_text="已审核不通过")).to_contain_text(FULL_NAME)
    expect(queue_row(page)).to_have_count(0)
    domain.refresh_from_db()
    assert domain.status == DomainStatus.REJECTED
    log_out(page)

    # 3. The unit sees the reason, corrects the years and re-submits.
    log_in(page, base, "hd_edu")
    open_menu(page, "域名申请")
    row = application_row(page)
    expect(row).to_contain_text("审核不通过")
    expect(row).to_contain_text(REASON)
    expect(page.get_by_role("columnheader", name="不通过原因")).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "domain-apply.png", full_page=True)

    row.get_by_role("link", name="修改并重新提交").click()
    expect(page.get_by_role("alert")).to_contain_text(REASON)
    expect(field(page, "域名")).to_have_value(LABEL)
    field(page, "注册年限").select_option(label="3年")
    page.get_by_role("button", name="提交", exact=True).click()
    expect(page.get_by_role("alert").filter(has_text="已重新提交")).to_contain_text(FULL_NAME)
    row = application_row(page)
    expect(row).to_contain_text("待审核")
    expect(row).to_contain_text("3年")
    expect(row).not_to_contain_text(REASON)
    log_out(page)

    # 4. The office approves the second round; then CONAC approves it.
    log_in(page, base, "hd_staff")
    open_menu(page, "待审核域名")
    expect(queue_row(page)).to_contain_text("第2次提交")
    tick_our_domain(page)
    page.get_by_role("button", name="审核通过", exact=True).click()
    say_yes(page)
    expect(page.get_by_role("alert").filter(has_text="已审核通过")).to_contain_text(FULL_NAME)
    expect(queue_row(page)).to_have_count(0)
    log_out(page)

    log_in(page, base, "conac_staff")
    open_menu(page, "待复审域名")
    expect(queue_row(page)).to_contain_text(UNIT_NAME)
    tick_our_domain(page)
    page.get_by_role("button", name="审核通过", exact=True).click()
    say_yes(page)
    expect(page.get_by_role("alert").filter(has_text="已审核通过")).to_contain_text(FULL_NAME)
    expect(queue_row(page)).to_have_count(0)
    log_out(page)

    # 5. The unit finds it 待缴费 in 我的域名.
    log_in(page, base, "hd_edu")
    open_menu(page, "域名业务管理——我的域名")
    mine = page.locator("#my-domains tbody tr").filter(has_text=FULL_NAME)
    expect(mine).to_contain_text("待缴费")
    expect(mine).to_contain_text(FULL_ALABEL)

    domain.refresh_from_db()
    assert (domain.status, domain.review_round, domain.years) == (DomainStatus.AWAITING_PAYMENT, 2, 3)
    decisions = Decision.objects.filter(
        content_type=ContentType.objects.get_for_model(Domain), object_id=domain.pk
    ).order_by("round", "tier")
    assert [(d.round, d.tier, d.outcome, d.opinion) for d in decisions] == [
        (1, Tier.OFFICE, Outcome.REJECT, REASON),
        (2, Tier.OFFICE, Outcome.PASS, ""),
        (2, Tier.CONAC, Outcome.PASS, ""),
    ]

    notices = Notice.objects.filter(template__in=["domain_rejected", "domain_approved"])
    assert sorted((n.template, n.channel, n.recipient, n.status) for n in notices) == [
        ("domain_approved", "email", unit.contact_email, "sent"),
        ("domain_approved", "sms", unit.contact_mobile, "sent"),
        ("domain_rejected", "email", unit.contact_email, "sent"),
        ("domain_rejected", "sms", unit.contact_mobile, "sent"),
    ]
    # What actually left the system, through the test backends the live server shares with us.
    texts = [m["body"] for m in sms.outbox if m["to"] == unit.contact_mobile]
    assert len(texts) == 2
    assert REASON in texts[0] and FULL_NAME in texts[0]
    assert "审核通过" in texts[1] and "北京市海淀区委编办" in texts[1]
    emails = [m for m in mail.outbox if m.to == [unit.contact_email]]
    assert len(emails) == 2
    assert REASON in emails[0].body
    assert FULL_NAME in emails[1].body
