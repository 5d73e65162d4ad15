"""首页 as each role's to-do list: every count is right against seeded data, links to a page that
shows exactly those rows, counts only what the reader may see, and costs the same number of
queries with little data and with more."""

import datetime
import io
import itertools
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from lxml import html

from badges.models import ApplicationStatus, WebsiteApplication
from billing import services as billing
from billing.models import C, Charge, FeeMarking, OfficeAccount
from conac import todo
from registry.dns.models import ChangeAction, DnsChange
from registry.models import Domain, DomainStatus
from review import services as review
from review.models import Decision
from tests import factories
from tests.badges.helpers import row as application_row

S = DomainStatus
LONG_AGO = timezone.now() - datetime.timedelta(days=30)  # past 5 (and 10) working days, whatever the holidays
_seq = itertools.count(1)


def _name(prefix):
    # Domain labels must be Chinese: number them with Chinese numerals.
    n = next(_seq)
    digits = "零一二三四五六七八九"
    return prefix + "".join(digits[int(c)] for c in str(n))


def active(unit, prefix, expires_in_days):
    today = timezone.localdate()
    return factories.make_domain(
        unit,
        _name(prefix),
        status=S.ACTIVE,
        registered_on=today - datetime.timedelta(days=300),
        expires_on=today + datetime.timedelta(days=expires_in_days),
    )


def seed(unit, shanghai_unit, office_user, other_office_user, conac_user, *, n):
    """``n`` of everything the to-do lists count, in 海淀区 and in 上海市; and things they must not count."""
    for _ in range(n):
        # 待审核: one fresh, one overdue (海淀区); one in 上海市 (another office's).
        factories.make_domain(unit, _name("海淀新申请"))
        factories.make_domain(unit, _name("海淀久等申请"), submitted_at=LONG_AGO)
        factories.make_domain(shanghai_unit, _name("上海申请"))
        # 待复审: passed by the office long ago (overdue at CONAC) and just now.
        for when in (LONG_AGO, None):
            domain = factories.make_domain(unit, _name("海淀待复审"))
            review.approve(domain, actor=office_user)
            if when:
                Decision.objects.filter(object_id=domain.pk, tier=1).update(created_at=when)
        shanghai = factories.make_domain(shanghai_unit, _name("上海待复审"))
        review.approve(shanghai, actor=other_office_user)
        # 待缴费: two charges of one unit.
        for _ in range(2):
            domain = factories.make_domain(unit, _name("海淀待缴费"), status=S.AWAITING_PAYMENT)
            billing.create_registration_charge(domain, actor=None)
        # 已收费 (marked, not yet paid by a 认款), in 海淀区 (北京) and 上海市.
        for owner, staff in ((unit, office_user), (shanghai_unit, other_office_user)):
            domain = factories.make_domain(owner, _name("已收费"), status=S.AWAITING_PAYMENT)
            charge = billing.create_registration_charge(domain, actor=None)
            marking = FeeMarking.objects.create(
                office=owner.office, unit=owner, invoice_no=f"FP{next(_seq)}", amount=charge.amount, marked_by=staff
            )
            Charge.objects.filter(pk=charge.pk).update(status=C.MARKED, marking=marking)
            Domain.objects.filter(pk=domain.pk).update(status=S.FEE_MARKED)
        # 汇款 waiting for 认款.
        billing.register_remittance(
            office_user.office,
            amount="1000",
            remitted_on=timezone.localdate(),
            voucher_no=f"V{next(_seq)}",
            actor=office_user,
        )
        # Expiring within 30 days, and one that is not.
        soon = active(unit, "海淀将到期", 10)
        active(unit, "海淀未到期", 200)
        # 解析审核.
        DnsChange.objects.create(
            domain=soon,
            unit=unit,
            action=ChangeAction.ADD,
            submitted_at=timezone.now(),
            host=f"w{next(_seq)}",
            rtype="A",
            value="1.2.3.4",
            ttl=600,
        )
        # 网站开办及标识申请: waiting for the office (one overdue), for CONAC, and for 资料确认 (overdue).
        WebsiteApplication.objects.bulk_create(
            [
                application_row(active(unit, "海淀网站", 300), submitted_at=LONG_AGO),
                application_row(active(unit, "海淀网站", 300)),
                application_row(active(unit, "海淀网站", 300), status=ApplicationStatus.PENDING_CONAC),
                application_row(
                    active(unit, "海淀网站", 300), status=ApplicationStatus.AWAITING_PAPER, conac_approved_at=LONG_AGO
                ),
            ]
        )
    # Balances of the offices (one row each).
    for office in (unit.office, shanghai_unit.office):
        OfficeAccount.objects.update_or_create(office=office, defaults={"balance": Decimal("100.00") * n})


@pytest.fixture
def world(unit, shanghai_unit, office_user, other_office_user, conac_user):
    def more(n=1):
        seed(unit, shanghai_unit, office_user, other_office_user, conac_user, n=n)

    return more


def items(response):
    """label → Item, as the page was given them."""
    page = response.context["todo"]
    return {item.label: item for _, section in page.sections for item in section}


def shown(response):
    """label → (count as written, href) read from the page itself."""
    tree = html.fromstring(response.content)
    found = {}
    for link in tree.xpath("//*[@id='todo']//a[contains(@class, 'todo-count')]"):
        count = link.xpath(".//span[contains(@class, 'fs-4')]")[0].text_content().strip()
        name = link.xpath(".//span[contains(@class, 'text-decoration-underline')]")[0].text_content().strip()
        found[name] = (int(count), link.get("href"))
    return found


def listed(client, url):
    """How many rows the linked page lists (its paginator's count)."""
    response = client.get(url)
    assert response.status_code == 200, url
    return response.context["page"].paginator.count


def query_count(client):
    with CaptureQueriesContext(connection) as context:
        response = client.get("/")
    assert response.status_code == 200
    return len(context)


# --- 编办 ------------------------------------------------------------------------------------


def test_office_home_lists_its_work_with_counts_that_link_to_exactly_those_rows(client_for, world, office_user, unit):
    world(n=2)
    client = client_for(office_user)
    response = client.get("/")
    got, page = items(response), shown(response)

    assert page["待审核域名"] == (4, "/domains/review/office/")
    assert got["待审核域名"].note == "其中 2 个已超过 5 个工作日" and got["待审核域名"].urgent
    queue = client.get(page["待审核域名"][1])
    assert queue.context["page"].paginator.count == 4
    # The queue marks the same two as past the deadline.
    flags = [row["overdue"] if isinstance(row, dict) else row.overdue for row in queue.context["rows"]]
    assert sum(flags) == 2

    # 待缴费: 4 charges of one unit, 200 元 each by default.
    assert page["待缴费单位"][0] == 1
    assert got["待缴费单位"].note == "4 笔，共 800.00 元"
    unpaid = client.get(page["待缴费单位"][1])
    assert unpaid.context["page"].paginator.count == 4
    assert {c.unit_id for c in unpaid.context["page"]} == {unit.pk}

    assert page["汇款待认款"] == (2, "/billing/remittances/?status=pending")
    assert got["汇款待认款"].note == "共 2,000.00 元，等待CONAC认款"
    assert listed(client, page["汇款待认款"][1]) == 2

    expiring_count, expiring_url = page["30天内到期"]
    assert expiring_count == 2 and "status=active" in expiring_url and "expires_to=" in expiring_url
    assert listed(client, expiring_url) == 2

    assert page["网站开办及标识申请待审核"][0] == 4
    assert got["网站开办及标识申请待审核"].note == "其中 2 份已超过 5 个工作日"
    assert listed(client, page["网站开办及标识申请待审核"][1]) == 4
    assert page["待资料确认"] == (2, "/applications/review/#paper-queue")
    assert got["待资料确认"].note == "其中 2 份已超过 10 个工作日"
    queue = client.get("/applications/review/")
    assert len(queue.context["paper_rows"]) == 2


def test_another_office_counts_only_its_own(client_for, world, other_office_user):
    world(n=2)
    page = shown(client_for(other_office_user).get("/"))
    assert page["待审核域名"][0] == 2  # 上海市's own two, none of 海淀区's
    assert page["待缴费单位"][0] == 0 and page["汇款待认款"][0] == 0 and page["待资料确认"][0] == 0


def test_an_office_with_nothing_to_do_sees_zeros_not_an_error(client_for, office_user):
    response = client_for(office_user).get("/")
    assert response.status_code == 200
    assert {name: count for name, (count, _) in shown(response).items()} == {
        "待审核域名": 0,
        "待缴费单位": 0,
        "汇款待认款": 0,
        "30天内到期": 0,
        "网站开办及标识申请待审核": 0,
        "待资料确认": 0,
    }


# --- CONAC ---------------------------------------------------------------------------------


def test_conac_home_lists_reviews_and_money_with_links(client_for, world, conac_user):
    world(n=2)
    client = client_for(conac_user)
    response = client.get("/")
    got, page = items(response), shown(response)

    assert page["待复审域名"] == (6, "/domains/review/conac/")
    assert got["待复审域名"].note == "其中 2 个编办审核通过已超过 5 个工作日"
    assert listed(client, page["待复审域名"][1]) == 6

    assert page["待认款"] == (2, "/billing/remittances/confirm/")
    assert got["待认款"].note == "共 2,000.00 元"
    assert listed(client, page["待认款"][1]) == 2

    assert page["解析审核"] == (2, "/dns/review/")
    assert listed(client, page["解析审核"][1]) == 2
    assert page["网站开办及标识申请审核"] == (2, "/applications/review/")
    assert listed(client, page["网站开办及标识申请审核"][1]) == 2


def test_conac_charts_show_each_province_with_bars_that_link_to_its_filtered_list(client_for, world, conac_user):
    world(n=2)
    client = client_for(conac_user)
    response = client.get("/")
    charts = {chart.title: chart for chart in response.context["todo"].charts}
    backlog = {bar.label: bar for bar in charts["各省待复审域名"].bars}
    assert set(backlog) == {"北京市", "上海市"}
    assert (backlog["北京市"].value, backlog["上海市"].value) == (4, 2)
    # The longest bar is the largest figure; each bar is a link with its name and figure.
    assert (backlog["北京市"].percent, backlog["上海市"].percent) == ("100.0", "50.0")
    tree = html.fromstring(response.content)
    links = tree.xpath("//*[local-name()='svg']//*[local-name()='a']")
    labels = {link.get("aria-label") for link in links}
    assert {"北京市：4 个", "上海市：2 个", "北京市：200.00 元", "上海市：200.00 元"} <= labels
    assert all(link.xpath("./*[local-name()='title']") for link in links)
    # The table alternative carries the same links.
    assert tree.xpath(f"//details//a[@href='{backlog['北京市'].url}']")

    # 北京市's bar lists 北京's waiting domains only (its province office and every office below it).
    search = client.get(backlog["北京市"].url)
    assert search.context["page"].paginator.count == 4
    assert {d.office.code[:2] for d in search.context["page"]} == {"11"}
    assert "仅显示北京市（省级编办及其下级编办）的域名" in search.content.decode()

    local = {bar.label: bar.value for bar in charts["各省编办待审核域名"].bars}
    assert local == {"北京市": 4, "上海市": 2}

    money = {bar.label: bar for bar in charts["各省已收费未认款"].bars}
    assert {k: v.value for k, v in money.items()} == {"北京市": Decimal("400.00"), "上海市": Decimal("400.00")}
    report = client.get(money["上海市"].url)
    assert [line.office.code for line in report.context["report"].lines] == ["310000"]
    assert report.context["report"].total.unconsumed_total == Decimal("400.00")
    assert "仅显示上海市（省级编办及其下级编办）" in report.content.decode()
    assert "{#" not in response.content.decode() and "{%" not in response.content.decode()

    balances = {bar.label: bar.value for bar in charts["各省余额"].bars}
    assert balances == {"北京市": Decimal("200.00"), "上海市": Decimal("200.00")}


def test_a_chart_with_nothing_to_show_says_so(client_for, conac_user):
    response = client_for(conac_user).get("/")
    assert all(not chart.bars for chart in response.context["todo"].charts)
    assert response.content.decode().count("各省均为零") == 4


# --- 申报单位 --------------------------------------------------------------------------------


def test_unit_home_lists_its_domains_by_state_with_the_next_step(client_for, world, unit_user, unit):
    world(n=1)
    factories.make_domain(unit, "海淀被退回", status=S.REJECTED, rejection_reason="名称与单位不符")
    client = client_for(unit_user)
    response = client.get("/")
    got, page = items(response), shown(response)
    assert got["待缴费"].hint == "请向北京市海淀区委编办缴费" and got["待缴费"].urgent
    assert got["已收费"].hint == "认款后一个工作日生效"
    assert got["审核不通过"].hint == "请查看不通过原因，修改并重新提交"
    assert got["待审核"].hint == "等待北京市海淀区委编办审核"
    body = response.content.decode()
    assert "下一步：请向北京市海淀区委编办缴费" in body
    for state in ("待审核", "待复审", "审核不通过", "待缴费", "已收费", "注册成功"):
        count, url = page[state]
        assert listed(client, url) == count == Domain.objects.filter(unit=unit, status=S(url.split("=")[1])).count()
    count, url = page["30天内到期"]
    assert count == 1 and listed(client, url) == 1


def test_a_unit_counts_only_its_own_domains(client_for, world, other_unit_user):
    world(n=2)
    response = client_for(other_unit_user).get("/")
    assert shown(response) == {"域名申请": (0, "/domains/apply/")}
    assert "本单位还没有域名" in response.content.decode()


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/")
    assert response.status_code == 302 and response.url.startswith("/login/")


# --- A fixed number of queries, whatever the data ---------------------------------------------


@pytest.mark.parametrize("persona", ["office_user", "other_office_user", "conac_user", "unit_user"])
def test_the_home_page_costs_the_same_queries_with_little_and_more_data(
    request, client_for, world, persona, django_assert_max_num_queries
):
    client = client_for(request.getfixturevalue(persona))
    world(n=1)
    client.get("/")  # the session and the user, as on every page
    little = query_count(client)
    world(n=3)
    # More provinces too: a chart must not ask once per bar.
    for code, name in (("440000", "广东省测试局"), ("510000", "四川省测试局")):
        other = factories.make_unit(username=f"u{code}", name=name, region_code=code, level="province")
        factories.make_domain(other, _name("外省申请"))
        OfficeAccount.objects.create(office=other.office, balance=Decimal("50.00"))
    more = query_count(client)
    assert little == more
    with django_assert_max_num_queries(20):
        client.get("/")


def test_providers_register_once_and_conac_core_stays_app_free():
    assert todo.providers_for("office") and todo.providers_for("conac") and todo.providers_for("unit")
    before = todo.providers_for("office")
    from registry import todo as registry_todo

    registry_todo.register()  # a second ready() must not double the items
    assert todo.providers_for("office") == before


def test_overdue_counts_working_days_like_the_queues(db):
    from conac.workdays import WorkdayCalendar

    today = datetime.date(2025, 10, 9)  # after the National Day holiday: 10-01..10-08 are days off
    cutoff = todo.overdue_before(5, today)
    last_late = timezone.localtime(cutoff - datetime.timedelta(seconds=1)).date()
    calendar = WorkdayCalendar()
    assert calendar.workdays_between(last_late, today) == 6
    assert calendar.workdays_between(timezone.localtime(cutoff).date(), today) == 5


# --- The filters the counts link to ------------------------------------------------------------


def test_domain_search_by_province_includes_the_offices_below_and_ignores_a_bad_code(
    client_for, world, conac_user, office_user, unit
):
    world(n=1)
    client = client_for(conac_user)
    beijing = client.get("/domains/search/", {"status": "pending_local", "province": "11"})
    assert {d.office.code for d in beijing.context["page"]} == {"110108"}  # 海淀区, under 北京市
    assert beijing.context["page"].paginator.count == 2
    # A code that is not two digits is ignored, not an error (nor a 500).
    everything = client.get("/domains/search/", {"status": "pending_local", "province": "1'; --"})
    assert everything.status_code == 200 and everything.context["page"].paginator.count == 3
    assert "仅显示" not in everything.content.decode()
    # An office stays within its own scope whatever the province asked for.
    shanghai = client_for(office_user).get("/domains/search/", {"status": "pending_local", "province": "31"})
    assert shanghai.context["page"].paginator.count == 0


def test_the_export_of_a_province_list_holds_the_same_rows(client_for, world, conac_user):
    from openpyxl import load_workbook

    world(n=1)
    response = client_for(conac_user).get("/domains/search/export/", {"status": "pending_local", "province": "31"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).active
    names = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert len(names) == 1 and names[0].startswith("上海申请")


def test_the_remittance_list_filters_pending_for_its_own_office_only(client_for, world, office_user, other_office_user):
    world(n=2)
    mine = client_for(office_user).get("/billing/remittances/", {"status": "pending"})
    assert mine.context["page"].paginator.count == 2
    assert "仅显示待认款的汇款" in mine.content.decode()
    assert (
        client_for(other_office_user)
        .get("/billing/remittances/", {"status": "pending"})
        .context["page"]
        .paginator.count
        == 0
    )
    assert client_for(office_user).get("/billing/remittances/", {"status": "bogus"}).status_code == 200


def test_an_office_cannot_widen_the_reconciliation_with_a_province(client_for, world, office_user):
    world(n=1)
    report = client_for(office_user).get("/billing/reconciliation/", {"province": "31"})
    assert [line.office.code for line in report.context["report"].lines] == ["110108"]
    assert "仅显示" not in report.content.decode()
