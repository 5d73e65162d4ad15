"""Irreversible actions ask first, saying what will happen; nothing changes until the answer is 确定.

Without JavaScript the server answers a POST that lacks ``confirmed=1`` with a confirmation
step (the question, the details, 确定 re-sending the same POST with ``confirmed=1``, 取消 going
back). With JavaScript the same question comes from the button's ``data-confirm`` in a
<dialog> (tests/browser/test_keyboard.py drives that one).
"""

import datetime
import re

import pytest
from django.urls import reverse

from badges import services as badge_services
from badges.models import ApplicationStatus, Badge, BadgeStatus
from billing import services
from billing.models import C, FeeMarking, LedgerEntry, Refund, RemittanceStatus
from registry.dns import services as dns_services
from registry.dns.models import ChangeStatus
from registry.models import DomainStatus
from tests import factories
from tests.badges.helpers import awaiting_paper, live_domain, submit
from tests.billing.test_pages import _marked, charge_for, fees_url
from tests.billing.test_refunds import owed_back, refund_url


def body(response):
    return response.content.decode()


def hidden(page, name):
    return re.findall(rf'<input type="hidden" name="{name}" value="([^"]*)">', page)


def assert_asks(response, question, *details):
    """The confirmation step: the question, the details, and 确定 carrying confirmed=1."""
    assert response.status_code == 200
    page = body(response)
    assert 'id="confirm-step"' in page
    assert question in page, page[:3000]
    for line in details:
        assert line in page
    assert hidden(page, "confirmed") == ["1"]
    return page


# --- 认款 ----------------------------------------------------------------------------------


def test_confirming_a_remittance_asks_with_the_amount_and_what_it_will_consume(
    client_for, conac_user, office_user, unit
):
    first = _marked(unit, office_user, "海淀确认甲", years=2)  # 400
    _marked(unit, office_user, "海淀确认乙", years=3)  # 600: not covered by 500
    remittance = services.register_remittance(
        office_user.office, amount="500", remitted_on=datetime.date(2025, 9, 1), voucher_no="HD-Q", actor=office_user
    )
    client = client_for(conac_user)
    url = reverse("billing:remittance-confirm", args=[remittance.public_id])

    page = assert_asks(
        client.post(url), "认款 500.00 元，将按收费先后消费 1 笔", "汇款凭证号 HD-Q", "余额不足的 1 笔留待下次认款"
    )
    assert "认款后余额 100.00 元" in page
    remittance.refresh_from_db()
    assert remittance.status == RemittanceStatus.PENDING and not LedgerEntry.objects.exists()

    # With JavaScript: the same question in the 认款 button's dialog.
    listed = body(client.get(reverse("billing:remittance-confirm-list")))
    assert 'data-confirm="认款 500.00 元，将按收费先后消费 1 笔（共 400.00 元）？' in listed

    client.post(url, {"confirmed": "1"})
    remittance.refresh_from_db()
    first.refresh_from_db()
    assert remittance.status == RemittanceStatus.CONFIRMED and first.status == C.CONSUMED


def test_the_confirmation_of_12_charges_says_12(client_for, conac_user, office_user, unit):
    for i in range(12):
        _marked(unit, office_user, f"海淀十二笔{i:02d}")  # 200 each
    remittance = services.register_remittance(
        office_user.office, amount="50000", remitted_on=datetime.date(2025, 9, 1), voucher_no="HD-12", actor=office_user
    )
    response = client_for(conac_user).post(reverse("billing:remittance-confirm", args=[remittance.public_id]))
    assert_asks(response, "认款 50,000.00 元，将按收费先后消费 12 笔")


# --- 收费 / 确认收费 (详细信息) ----------------------------------------------------------------


def test_marking_fees_asks_naming_the_unit_its_credit_code_and_the_amount(client_for, office_user, unit):
    charges = [charge_for(unit, "海淀收费甲"), charge_for(unit, "海淀收费乙", years=2)]
    data = {"charges": [str(c.public_id) for c in charges], "invoice_no": "FP-Q1", "amount": "600"}
    client = client_for(office_user)

    for extra in ({}, {"HTTP_HX_REQUEST": "true"}):
        page = assert_asks(
            client.post(fees_url(unit), data, **extra),
            f"向{unit.name}（统一社会信用代码 {unit.credit_code}）确认收费 600.00 元（发票号码 FP-Q1），共 2 笔？",
            "海淀收费甲.政务",
            "海淀收费乙.政务",
        )
        assert sorted(hidden(page, "charges")) == sorted(data["charges"])
    assert not FeeMarking.objects.exists()

    # The panel names the unit in its header and in the dialog's question.
    panel = body(client.get(fees_url(unit), HTTP_HX_REQUEST="true"))
    assert f"收费：{unit.name}" in panel and f"统一社会信用代码 {unit.credit_code}" in panel
    assert f'data-confirm="向{unit.name}（统一社会信用代码 {unit.credit_code}）确认收费 {{amount:money}} 元' in panel

    response = client.post(fees_url(unit), {**data, "confirmed": "1"})
    marking = FeeMarking.objects.get()
    # Without htmx the answer is a GET (PRG) showing the result.
    assert response.status_code == 302 and response["Location"].endswith(f"?marking={marking.public_id}")
    shown = body(client.get(response["Location"]))
    assert "已确认收费" in shown and unit.name in shown


def test_a_refused_marking_is_not_asked_about(client_for, office_user, unit):
    charge = charge_for(unit, "海淀收费丙")
    data = {"charges": [str(charge.public_id)], "invoice_no": "  ", "amount": "200"}
    response = client_for(office_user).post(fees_url(unit), data)
    assert response.status_code == 302 and "?form=" in response["Location"]
    assert not FeeMarking.objects.exists()


# --- 重置密码 --------------------------------------------------------------------------------


def test_resetting_a_password_asks_naming_the_unit(client_for, office_user, unit):
    client = client_for(office_user)
    url = reverse("registry:unit-detail", args=[unit.public_id])
    assert_asks(
        client.post(url, {"action": "reset", "new_password": "NewPass2025"}),
        f"重置{unit.name}（统一社会信用代码 {unit.credit_code}）的密码？",
        f"用户名：{unit.account.username}",
    )
    unit.account.refresh_from_db()
    assert unit.account.check_password(factories.PASSWORD)  # unchanged until 确定
    panel = body(client_for(office_user).get(url, HTTP_HX_REQUEST="true"))
    assert f"详细信息：{unit.name}" in panel
    assert f'data-confirm="重置{unit.name}（统一社会信用代码 {unit.credit_code}）的密码？' in panel


# --- 审核通过 / 审核不通过 in the three queues ---------------------------------------------------


def test_batch_and_single_domain_decisions_ask_with_the_count(client_for, office_user, unit, other_unit):
    domains = [factories.make_domain(unit, "海淀确认一"), factories.make_domain(other_unit, "海淀确认二")]
    client = client_for(office_user)
    decide = reverse("registry:domain-review-decide")
    ids = [str(d.public_id) for d in domains]

    assert_asks(client.post(decide, {"ids": ids, "action": "approve"}), "确认审核通过 2 个域名？", "海淀确认一.政务")
    assert_asks(client.post(decide, {"ids": ids[:1], "action": "approve"}), "确认审核通过“海淀确认一.政务”？")
    assert_asks(
        client.post(decide, {"ids": ids, "action": "reject", "opinion": "名称不规范"}),
        "确认审核不通过 2 个域名？",
        "审核意见：名称不规范",
    )
    for domain in domains:
        domain.refresh_from_db()
        assert domain.status == DomainStatus.PENDING_LOCAL

    queue = body(client.get(reverse("registry:domain-office-queue")))
    assert 'data-confirm="确认审核通过 {n} 个域名？"' in queue
    assert 'data-require-ticked="请先勾选要审核的域名。"' in queue


def test_dns_decisions_ask_with_the_count(client_for, unit_user, conac_user, unit):
    domain = live_domain(unit, "海淀解析确认")
    changes = [
        dns_services.request_add(domain, actor=unit_user, host=host, rtype="A", value="202.96.0.1")
        for host in ("www", "mail")
    ]
    client = client_for(conac_user)
    response = client.post(
        reverse("registry:dns-review-decide"), {"ids": [c.public_id for c in changes], "action": "approve"}
    )
    assert_asks(response, "确认审核通过 2 条解析申请？")
    assert {c.status for c in type(changes[0]).objects.all()} == {ChangeStatus.PENDING}
    assert 'data-confirm="确认审核通过 {n} 条解析申请？"' in body(client.get(reverse("registry:dns-review")))


def test_application_decisions_ask_with_the_count(client_for, office_user, unit):
    application = submit(live_domain(unit, "海淀开办确认"))
    response = client_for(office_user).post(
        reverse("badges:review-decide"), {"ids": [application.public_id], "action": "reject", "opinion": "资料不全"}
    )
    assert_asks(response, f"确认审核不通过“{application.site_name}（{unit.name}）”？", "审核意见：资料不全")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.PENDING_LOCAL
    queue = body(client_for(office_user).get(reverse("badges:review-queue")))
    assert 'data-confirm="确认审核通过 {n} 份申请？"' in queue


# --- 删除域名 --------------------------------------------------------------------------------


def test_deleting_asks_with_the_count_and_the_reason(client_for, office_user, unit):
    domains = [factories.make_domain(unit, "海淀删除一"), factories.make_domain(unit, "海淀删除二")]
    client = client_for(office_user)
    url = reverse("registry:domain-delete")
    ids = [str(d.public_id) for d in domains]

    page = assert_asks(client.post(url, {"ids": ids, "reason": "单位撤销"}), "确认删除 2 个域名？", "海淀删除一.政务")
    assert 'name="reason"' in page and "单位撤销" in page  # the reason is asked on the step itself
    # 确定 without a reason: asked again, the error at the field.
    assert_asks(
        client.post(url, {"ids": ids, "reason": " ", "confirmed": "1"}),
        "确认删除 2 个域名？",
        "删除域名必须填写删除原因",
    )
    for domain in domains:
        domain.refresh_from_db()
        assert domain.status == DomainStatus.PENDING_LOCAL

    client.post(url, {"ids": ids, "reason": "单位撤销", "confirmed": "1"})
    domains[0].refresh_from_db()
    assert domains[0].status == DomainStatus.DELETED


def test_deleting_with_nothing_ticked_says_so_like_renewal(client_for, office_user, unit):
    client = client_for(office_user)
    search = reverse("registry:domain-search")
    for url in (reverse("registry:domain-delete"), reverse("billing:renew")):
        response = client.post(url, {"next": search}, follow=True)
        assert response.redirect_chain[-1][0] == search
    page = body(client.post(reverse("registry:domain-delete"), {"next": search}, follow=True))
    assert "请先勾选要删除的域名。" in page
    searched = body(client.get(search))
    assert (
        'data-require-ticked="请先勾选要删除的域名。"' in searched
        and 'data-confirm-text="确认删除 {n} 个域名？"' in searched
    )


# --- 撤销, 退费, 资料确认 / 资料不符 ------------------------------------------------------------


@pytest.fixture
def organ_domain(unit):
    return live_domain(unit, "海淀测试局")


def test_revoking_a_badge_asks_first(client_for, conac_user, office_user, organ_domain):
    badge = badge_services.confirm_paper(awaiting_paper(organ_domain, office_user, conac_user), actor=office_user)
    url = reverse("badges:badge-revoke", args=[badge.code])
    assert_asks(
        client_for(conac_user).post(url, {"reason": "网站已关闭"}),
        f"确认撤销{badge.unit.name}的网站标识 {badge.code}？",
        "撤销原因：网站已关闭",
    )
    assert Badge.objects.get(pk=badge.pk).status != BadgeStatus.REVOKED


def test_paper_decisions_ask_first(client_for, conac_user, office_user, organ_domain):
    application = awaiting_paper(organ_domain, office_user, conac_user)
    url = reverse("badges:paper-decide", args=[application.public_id])
    client = client_for(office_user)
    assert_asks(client.post(url, {"action": "confirm"}), "资料确认？", "发放网站标识")
    assert_asks(client.post(url, {"action": "mismatch", "reason": "未盖章"}), "资料不符？", "资料不符原因：未盖章")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.AWAITING_PAPER and not Badge.objects.exists()


def test_recording_a_refund_asks_first(client_for, office_user, conac_user, unit):
    charge = owed_back(unit, office_user, conac_user)
    data = {"refunded_on": datetime.date.today().isoformat(), "voucher_no": "TF-Q", "amount": "200.00"}
    assert_asks(
        client_for(office_user).post(refund_url(charge), data),
        f"确认退费 200.00 元给{unit.name}",
        "退费凭证号 TF-Q",
    )
    assert not Refund.objects.exists()


def test_the_step_changes_nothing_for_an_outsider(client_for, other_office_user, office_user, unit):
    """Another office asking is refused before any question (404), as before."""
    charge = charge_for(unit, "海淀外人")
    response = client_for(other_office_user).post(
        fees_url(unit), {"charges": [str(charge.public_id)], "invoice_no": "X", "amount": "200"}
    )
    assert response.status_code == 404
    remittance = services.register_remittance(
        office_user.office, amount="1", remitted_on=datetime.date(2025, 1, 1), voucher_no="OUT", actor=office_user
    )
    assert (
        client_for(office_user).post(reverse("billing:remittance-confirm", args=[remittance.public_id])).status_code
        == 403
    )
