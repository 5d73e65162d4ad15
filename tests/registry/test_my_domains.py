"""网上名称管理——域名业务管理——我的域名: each row's state badge (as in 域名申请), its next step in
words and its actions; the filters the home page links to; who may see it; a fixed query count."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from lxml import html

from registry.models import DomainStatus
from tests import factories

S = DomainStatus
URL = "/domains/mine/"


@pytest.fixture
def beijing_unit(db):
    """A 省级 unit of 北京市: its 同级编办 is 北京市委编办."""
    return factories.make_unit(username="bj_unit", name="北京市测试局", region_code="110000", level="province")


@pytest.fixture
def beijing_user(beijing_unit):
    return factories.unit_user(beijing_unit)


def domain(unit, label, status, **fields):
    return factories.make_domain(unit, label, status=status, **fields)


def rows(response):
    """域名 → (state badge text, badge class, next step text, action texts) as the page shows them."""
    tree = html.fromstring(response.content)
    found = {}
    for tr in tree.xpath("//table[@id='my-domains']/tbody/tr[td[2]/span]"):
        badge = tr.xpath("./td[2]/span")[0]
        found[tr.xpath("./td[1]/a")[0].text_content().strip()] = (
            badge.text_content().strip(),
            badge.get("class"),
            " ".join(tr.xpath("./td[3]")[0].text_content().split()),
            [a.text_content().strip() for a in tr.xpath("./td[4]/a")],
        )
    return found


def test_each_state_has_its_next_step_in_words_and_its_actions(client_for, beijing_unit, beijing_user):
    today = timezone.localdate()
    rejected = domain(beijing_unit, "北京被退回", S.REJECTED, rejection_reason="单位名称与域名不符")
    live = domain(
        beijing_unit, "北京已生效", S.ACTIVE, registered_on=today, expires_on=today + datetime.timedelta(days=365)
    )
    domain(beijing_unit, "北京待缴费", S.AWAITING_PAYMENT)
    domain(beijing_unit, "北京已收费", S.FEE_MARKED)
    domain(beijing_unit, "北京待审核", S.PENDING_LOCAL)
    domain(beijing_unit, "北京待复审", S.PENDING_CONAC)
    domain(beijing_unit, "北京待生效", S.ACTIVATING)
    domain(beijing_unit, "北京将到期", S.ACTIVE, registered_on=today, expires_on=today + datetime.timedelta(days=12))
    response = client_for(beijing_user).get(URL)
    page = rows(response)

    assert page["北京待缴费.政务"][2] == "请向北京市委编办缴费"
    assert page["北京已收费.政务"][2] == "认款后一个工作日生效"
    assert page["北京待审核.政务"][2] == "等待北京市委编办审核"
    assert "CONAC" in page["北京待复审.政务"][2]
    assert page["北京待生效.政务"][2] == "已认款，下一个工作日注册成功"
    expiry = (today + datetime.timedelta(days=12)).isoformat()
    assert page["北京将到期.政务"][2] == f"{expiry} 到期，请向北京市委编办申请续费"

    # 审核不通过: the reason, and 修改并重新提交 to the resubmission form.
    assert page["北京被退回.政务"][2] == "请查看不通过原因，修改并重新提交 不通过原因：单位名称与域名不符"
    assert page["北京被退回.政务"][3] == ["修改并重新提交"]
    body = response.content.decode()
    assert f'href="/domains/{rejected.public_id}/resubmit/"' in body
    # 注册成功: 域名解析.
    assert page["北京已生效.政务"][3] == ["域名解析"]
    assert f'href="/domains/{live.public_id}/dns/"' in body
    assert page["北京待缴费.政务"][3] == []
    # 注册日期 and 到期时间 follow (the browser flow of billing reads them by position).
    (live_row,) = html.fromstring(response.content).xpath(
        "//table[@id='my-domains']/tbody/tr[contains(., '北京已生效')]"
    )
    cells = [" ".join(td.text_content().split()) for td in live_row.xpath("./td")]
    assert cells[1] == "注册成功"
    assert cells[4:] == [today.isoformat(), (today + datetime.timedelta(days=365)).isoformat()]

    # The same state badges as 域名申请.
    apply_page = html.fromstring(client_for(beijing_user).get("/domains/apply/").content)
    apply_badges = {
        tr.xpath("./td[1]/a")[0].text_content().strip(): tr.xpath(".//span[contains(@class, 'badge')]")[0].get("class")
        for tr in apply_page.xpath("//table[@id='applications']/tbody/tr[td[4]/span]")
    }
    for name, (state, css, _, _) in page.items():
        assert apply_badges[name] == css
    assert page["北京被退回.政务"][:2] == ("审核不通过", "badge text-bg-danger")
    assert page["北京已生效.政务"][:2] == ("注册成功", "badge text-bg-success")


def test_the_filters_the_home_page_links_to(client_for, unit, unit_user):
    today = timezone.localdate()
    domain(unit, "海淀待缴费一", S.AWAITING_PAYMENT)
    domain(unit, "海淀待缴费二", S.AWAITING_PAYMENT)
    domain(unit, "海淀待审核", S.PENDING_LOCAL)
    domain(unit, "海淀将到期", S.ACTIVE, registered_on=today, expires_on=today + datetime.timedelta(days=5))
    domain(unit, "海淀未到期", S.ACTIVE, registered_on=today, expires_on=today + datetime.timedelta(days=300))
    client = client_for(unit_user)

    unpaid = client.get(URL, {"status": "awaiting_payment"})
    assert set(rows(unpaid)) == {"海淀待缴费一.政务", "海淀待缴费二.政务"}
    assert 'aria-current="page">待缴费（2）' in unpaid.content.decode()

    soon = client.get(URL, {"expiring": "30"})
    assert set(rows(soon)) == {"海淀将到期.政务"}
    assert "30天内到期（1）" in soon.content.decode()

    # Anything else shows everything, never an error.
    assert len(rows(client.get(URL, {"status": "nonsense", "expiring": "x"}))) == 5
    assert "没有符合条件的域名" in client.get(URL, {"status": "expired"}).content.decode()


def test_a_unit_sees_only_its_own_domains(client_for, unit, other_unit, other_unit_user):
    domain(unit, "海淀别人的", S.AWAITING_PAYMENT)
    domain(other_unit, "海淀自己的", S.PENDING_LOCAL)
    response = client_for(other_unit_user).get(URL, {"status": "awaiting_payment"})
    assert rows(response) == {}
    assert set(rows(client_for(other_unit_user).get(URL))) == {"海淀自己的.政务"}


def test_staff_and_visitors_are_kept_out(client, client_for, office_user, conac_user):
    assert client_for(office_user).get(URL).status_code == 403
    assert client_for(conac_user).get(URL).status_code == 403
    response = client.get(URL)
    assert response.status_code == 302 and response.url.startswith("/login/")


def test_the_page_costs_the_same_queries_for_few_and_many_domains(client_for, unit, unit_user):
    client = client_for(unit_user)

    def count():
        with CaptureQueriesContext(connection) as context:
            assert client.get(URL).status_code == 200
        return len(context)

    today = timezone.localdate()
    for n, status in enumerate([S.REJECTED, S.ACTIVE, S.AWAITING_PAYMENT]):
        domain(unit, f"海淀少量{'一二三'[n]}", status, registered_on=today, expires_on=today)
    client.get(URL)
    few = count()
    statuses = [S.REJECTED, S.ACTIVE, S.AWAITING_PAYMENT, S.FEE_MARKED, S.PENDING_LOCAL, S.EXPIRED]
    for n in range(30):
        domain(unit, f"海淀大量{'零一二三四五六七八九'[n // 10]}{'零一二三四五六七八九'[n % 10]}", statuses[n % 6])
    assert count() == few
