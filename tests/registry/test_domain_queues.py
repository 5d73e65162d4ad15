"""网上名称管理——待审核域名 (编办) and 待复审域名 (CONAC): what each row shows, the deadline flag,
batch decisions, and a fixed number of SQL queries whatever the number of rows."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from registry.domains import names
from registry.models import Domain, DomainStatus, ReservedName, UnitKind, UnitLevel
from review import services as review
from review.models import CommonReason, Decision
from tests import factories

OFFICE_QUEUE = "/domains/review/office/"
CONAC_QUEUE = "/domains/review/conac/"
DECIDE = "/domains/review/decide/"
BEIJING = ZoneInfo("Asia/Shanghai")


def at(year, month, day, hour=10):
    return datetime.datetime(year, month, day, hour, tzinfo=BEIJING)


def row_of(page, domain):
    """The visible text of the queue row that holds ``domain`` (None when it is not listed)."""
    for row in page.split("<tr")[1:]:
        if str(domain.public_id) in row:
            return " ".join(re.sub(r"<[^>]+>", " ", row.split("</tr>")[0]).split())
    return None


@pytest.fixture
def today_is(monkeypatch):
    """Fix the date the pages count waiting days to."""

    def fix(day):
        real_localdate = timezone.localdate

        def localdate(*args, **kwargs):
            return real_localdate(*args, **kwargs) if args or kwargs else day

        monkeypatch.setattr(timezone, "localdate", localdate)

    return fix


# --- Who sees what ----------------------------------------------------------------------


def test_the_office_sees_only_its_own_units_waiting_items(client_for, office_user, unit, other_unit, shanghai_unit):
    mine = factories.make_domain(unit, "海淀测试局")
    colleague_unit = factories.make_domain(other_unit, "海淀另一局")
    shanghai = factories.make_domain(shanghai_unit, "上海测试局")
    passed = factories.make_domain(unit, "海淀已通过", status=DomainStatus.PENDING_CONAC)
    rejected = factories.make_domain(unit, "海淀已退回", status=DomainStatus.REJECTED)

    page = client_for(office_user).get(OFFICE_QUEUE)
    assert page.status_code == 200
    text = page.content.decode()
    assert "网上名称管理——待审核域名" in text
    assert row_of(text, mine) and row_of(text, colleague_unit)
    for absent in (shanghai, passed, rejected):
        assert row_of(text, absent) is None, absent


def test_the_higher_office_does_not_review_a_county_units_items(client_for, province_office_user, unit):
    domain = factories.make_domain(unit, "海淀测试局")
    assert row_of(client_for(province_office_user).get(OFFICE_QUEUE).content.decode(), domain) is None


def test_conac_sees_every_offices_items_waiting_for_it(client_for, conac_user, unit, shanghai_unit):
    beijing = factories.make_domain(unit, "海淀测试局", status=DomainStatus.PENDING_CONAC)
    shanghai = factories.make_domain(shanghai_unit, "上海测试局", status=DomainStatus.PENDING_CONAC)
    first_tier = factories.make_domain(unit, "海淀待初审")
    done = factories.make_domain(unit, "海淀已复审", status=DomainStatus.AWAITING_PAYMENT)

    text = client_for(conac_user).get(CONAC_QUEUE).content.decode()
    assert "网上名称管理——待复审域名" in text
    assert "北京市海淀区委编办" in row_of(text, beijing)
    assert "上海市委编办" in row_of(text, shanghai)
    assert row_of(text, first_tier) is None and row_of(text, done) is None


def test_an_empty_queue_says_so(client_for, office_user):
    text = client_for(office_user).get(OFFICE_QUEUE).content.decode()
    assert "没有待审核域名" in text
    assert "审核通过" not in text.split("没有待审核域名")[1]


# --- What a row shows -----------------------------------------------------------------------


def test_a_row_shows_what_the_reviewer_needs(client_for, office_user, unit, other_unit):
    label = "海淀区政务服务中心"
    pending = factories.make_domain(unit, label, years=3)
    # Another unit's live names that look alike: a longer one and a prefix of it.
    longer = factories.make_domain(other_unit, label + "网站", status=DomainStatus.ACTIVE)
    prefix = factories.make_domain(other_unit, "海淀区政务", status=DomainStatus.AWAITING_PAYMENT)
    factories.make_domain(other_unit, "海淀区政务服务", status=DomainStatus.REJECTED)  # not live
    factories.make_domain(other_unit, "朝阳区政务服务中心", status=DomainStatus.ACTIVE)  # not alike
    # The unit's other domains.
    factories.make_domain(unit, "海淀测试局", status=DomainStatus.ACTIVE)
    factories.make_domain(unit, "海淀旧名称", status=DomainStatus.DELETED)

    row = row_of(client_for(office_user).get(OFFICE_QUEUE).content.decode(), pending)
    assert row is not None
    for expected in (
        f"{label}.政务",
        pending.full_alabel,
        "3年",
        unit.name,
        "党政机关",
        "县级",
        "北京市海淀区",
        unit.credit_code,
        "机构编制：机关",
        "个工作日",
    ):
        assert expected in row, expected
    traditional = next(v for v in sorted(names.variants_of(label)) if "務" in v)
    assert "变体" in row and traditional in row
    assert f"{longer.full_name}（{other_unit.name}，注册成功）" in row
    assert f"{prefix.full_name}（{other_unit.name}，待缴费）" in row
    assert "海淀区政务服务.政务" not in row
    assert "朝阳区政务服务中心" not in row
    assert "海淀测试局.政务（注册成功）" in row
    assert "海淀旧名称.政务（已删除）" in row


def test_conflicts_come_first_and_the_variants_are_folded(client_for, office_user, unit, other_unit):
    label = "北京示范志愿者协会"
    pending = factories.make_domain(unit, label)
    spellings = sorted(names.variants_of(label))
    assert len(spellings) > 20  # the many generated variants the row used to list in full
    taken = next(v for v in spellings if "願" in v and "會" in v)
    registered = factories.make_domain(other_unit, taken, status=DomainStatus.ACTIVE)
    in_review = factories.make_domain(other_unit, spellings[1], status=DomainStatus.PENDING_CONAC)
    ReservedName.objects.create(label=spellings[2], suffix="", note="中心保留")
    longer = factories.make_domain(other_unit, label + "网", status=DomainStatus.ACTIVE)

    page = client_for(office_user).get(OFFICE_QUEUE).content.decode()
    row = row_of(page, pending)
    conflict_registered = f"冲突 {registered.full_name}（{other_unit.name}，注册成功）"
    conflict_review = f"冲突 {in_review.full_name}（{other_unit.name}，待复审）"
    conflict_reserved = f"冲突 {spellings[2]}（保留名称，所有后缀：中心保留）"
    folded = f"共{len(spellings)}个变体"
    for expected in (conflict_registered, conflict_review, conflict_reserved, longer.full_name, folded):
        assert expected in row, expected
    # Conflicts, then the alike names, then the folded list of every spelling.
    assert row.index(conflict_reserved) < row.index(longer.full_name) < row.index(folded)
    assert max(row.index(conflict_registered), row.index(conflict_review)) < row.index(longer.full_name)
    # Folded without JavaScript: the variants sit inside a closed <details>, after its summary.
    html_row = next(r for r in page.split("<tr")[1:] if str(pending.public_id) in r)
    details = html_row[html_row.index("<details") :]
    assert "<details open" not in html_row
    assert details.index(f"<summary>{folded}</summary>") < details.index(spellings[-1])
    # Fixed column widths: a long unit name is not squeezed to a character per line.
    assert 'style="table-layout: fixed' in page and "<colgroup>" in page


def test_a_name_without_conflicts_says_so_and_still_folds_its_variants(client_for, office_user, unit):
    pending = factories.make_domain(unit, "海淀区示范图书馆")
    row = row_of(client_for(office_user).get(OFFICE_QUEUE).content.decode(), pending)
    assert "冲突" not in row and "无相似的在用名称" in row
    assert f"共{len(names.variants_of('海淀区示范图书馆'))}个变体" in row


def test_waiting_items_on_the_same_page_are_compared_with_each_other(client_for, office_user, unit, other_unit):
    first = factories.make_domain(unit, "海淀区教育")
    second = factories.make_domain(unit, "海淀区教育网站")
    rival = factories.make_domain(other_unit, "海淀区教育委员会")
    text = client_for(office_user).get(OFFICE_QUEUE).content.decode()
    # The unit's other application is among its other domains, not among the similar names.
    assert "海淀区教育网站.政务（待审核）" in row_of(text, first)
    assert "海淀区教育.政务（待审核）" in row_of(text, second)
    # Another unit's alike application waiting at the same time is shown as similar, both ways.
    assert f"海淀区教育委员会.政务（{other_unit.name}，待审核）" in row_of(text, first)
    assert f"海淀区教育.政务（{unit.name}，待审核）" in row_of(text, rival)
    assert "海淀区教育网站.政务（" + unit.name not in row_of(text, first)


def test_a_unit_with_many_domains_shows_the_first_few_and_the_total(client_for, office_user, unit):
    pending = factories.make_domain(unit, "海淀待审")
    for n in range(12):
        factories.make_domain(unit, f"海淀在用{n:02d}", status=DomainStatus.ACTIVE)
    row = row_of(client_for(office_user).get(OFFICE_QUEUE).content.decode(), pending)
    assert row.count("（注册成功）") == 10
    assert "…共12个" in row
    assert "海淀待审.政务（" not in row


def test_an_institutions_row_shows_its_kind_level_and_category(client_for, office_user):
    institution = factories.make_unit(
        kind=UnitKind.INSTITUTION, level=UnitLevel.COUNTY, region_code="110108", name="海淀区第一医院"
    )
    pending = factories.make_domain(institution, "海淀第一医院")
    row = row_of(client_for(office_user).get(OFFICE_QUEUE).content.decode(), pending)
    assert "海淀第一医院.公益" in row and "事业单位" in row and "机构编制：事业单位" in row


def test_a_resubmitted_item_shows_its_round(client_for, office_user, unit):
    pending = factories.make_domain(unit, "海淀测试局", review_round=2)
    assert "第2次提交" in row_of(client_for(office_user).get(OFFICE_QUEUE).content.decode(), pending)


# --- Waiting time and the 5-working-day flag -----------------------------------------------------


def test_items_past_five_working_days_are_flagged(client_for, office_user, unit, today_is):
    today_is(datetime.date(2025, 6, 17))  # a Tuesday
    old = factories.make_domain(unit, "海淀老申请", submitted_at=at(2025, 6, 3))
    six = factories.make_domain(unit, "海淀六天", submitted_at=at(2025, 6, 9))
    five = factories.make_domain(unit, "海淀五天", submitted_at=at(2025, 6, 10))
    fresh = factories.make_domain(unit, "海淀新申请", submitted_at=at(2025, 6, 16))

    text = client_for(office_user).get(OFFICE_QUEUE).content.decode()
    assert "10个工作日" in row_of(text, old) and "已超过5个工作日" in row_of(text, old)
    assert "6个工作日" in row_of(text, six) and "已超过5个工作日" in row_of(text, six)
    assert "5个工作日" in row_of(text, five) and "已超过" not in row_of(text, five)
    assert "1个工作日" in row_of(text, fresh) and "已超过" not in row_of(text, fresh)
    # The oldest first.
    assert text.index(str(old.public_id)) < text.index(str(fresh.public_id))


def test_holidays_do_not_count_as_waiting(client_for, office_user, unit, today_is):
    # National Day 2025: submitted on the last working day before it, looked at on the first after.
    today_is(datetime.date(2025, 10, 9))
    domain = factories.make_domain(unit, "海淀国庆", submitted_at=at(2025, 9, 30))
    row = row_of(client_for(office_user).get(OFFICE_QUEUE).content.decode(), domain)
    assert "1个工作日" in row and "已超过" not in row


def test_the_conac_queue_does_not_flag_the_offices_deadline(client_for, conac_user, unit, today_is):
    today_is(datetime.date(2025, 6, 17))
    domain = factories.make_domain(unit, "海淀老申请", status=DomainStatus.PENDING_CONAC, submitted_at=at(2025, 6, 3))
    row = row_of(client_for(conac_user).get(CONAC_QUEUE).content.decode(), domain)
    assert "10个工作日" in row and "已超过" not in row


# --- Decisions from the queue ------------------------------------------------------------------


def test_batch_approve_of_ticked_rows(client_for, office_user, unit, other_unit, shanghai_unit):
    ticked = [factories.make_domain(unit, f"海淀批量{n}") for n in "一二三"]
    not_ticked = factories.make_domain(other_unit, "海淀未勾选")
    outsider = factories.make_domain(shanghai_unit, "上海不归我管")
    reviewer = client_for(office_user)

    ids = [str(d.public_id) for d in [*ticked, outsider]]
    response = reviewer.post(DECIDE, {"ids": ids, "action": "approve", "opinion": "", "confirmed": "1"}, follow=True)
    assert response.redirect_chain[-1][0] == OFFICE_QUEUE
    text = response.content.decode()
    assert "已审核通过 3 个域名" in text
    assert "1 个所选域名不存在或不在您的审核范围内" in text

    for domain in ticked:
        domain.refresh_from_db()
        assert domain.status == DomainStatus.PENDING_CONAC
        assert row_of(text, domain) is None
    not_ticked.refresh_from_db()
    outsider.refresh_from_db()
    assert not_ticked.status == DomainStatus.PENDING_LOCAL and row_of(text, not_ticked)
    assert outsider.status == DomainStatus.PENDING_LOCAL
    assert Decision.objects.count() == 3


def test_batch_reject_with_a_reason(client_for, office_user, unit, other_unit):
    ticked = [factories.make_domain(unit, "海淀退回一"), factories.make_domain(other_unit, "海淀退回二")]
    response = client_for(office_user).post(
        DECIDE,
        {
            "ids": [str(d.public_id) for d in ticked],
            "action": "reject",
            "opinion": "名称与单位名称不符",
            "confirmed": "1",
        },
    )
    assert response.status_code == 302
    for domain in ticked:
        domain.refresh_from_db()
        assert (domain.status, domain.rejection_reason) == (DomainStatus.REJECTED, "名称与单位名称不符")


@pytest.mark.parametrize("opinion", ["", "   "])
def test_reject_without_a_reason_is_refused_at_the_field(client_for, office_user, unit, opinion):
    domains = [factories.make_domain(unit, "海淀测试局"), factories.make_domain(unit, "海淀另一个")]
    ids = [str(d.public_id) for d in domains]
    response = client_for(office_user).post(
        DECIDE, {"ids": ids, "action": "reject", "opinion": opinion, "confirmed": "1"}, follow=True
    )
    # PRG: the queue again as a GET, the ticks and the error kept.
    assert response.redirect_chain[0][0].startswith(OFFICE_QUEUE + "?form=")
    assert response.context["form"].errors["opinion"] == ["审核不通过时必须填写审核意见（不通过原因）。"]
    text = response.content.decode()
    assert "审核不通过时必须填写审核意见（不通过原因）。" in text
    # The ticks survive, so only the reason needs adding.
    for domain in domains:
        assert f'value="{domain.public_id}" checked' in text
        domain.refresh_from_db()
        assert domain.status == DomainStatus.PENDING_LOCAL
    assert not Decision.objects.exists()


def test_deciding_without_ticking_anything_is_refused(client_for, office_user, unit):
    domain = factories.make_domain(unit, "海淀测试局")
    response = client_for(office_user).post(DECIDE, {"action": "approve", "opinion": ""}, follow=True)
    assert response.redirect_chain[0][0].startswith(OFFICE_QUEUE + "?form=")
    assert "请先勾选要审核的域名。" in response.content.decode()
    domain.refresh_from_db()
    assert domain.status == DomainStatus.PENDING_LOCAL


def test_conac_approves_from_its_queue(client_for, conac_user, unit):
    domain = factories.make_domain(unit, "海淀测试局", status=DomainStatus.PENDING_CONAC)
    response = client_for(conac_user).post(
        DECIDE, {"ids": [str(domain.public_id)], "action": "approve", "confirmed": "1"}
    )
    assert response.status_code == 302 and response["Location"] == CONAC_QUEUE
    domain.refresh_from_db()
    assert domain.status == DomainStatus.AWAITING_PAYMENT


def test_an_item_decided_by_a_colleague_meanwhile_gets_a_clear_message(client_for, office_user, unit):
    domain = factories.make_domain(unit, "海淀测试局")
    colleague = factories.make_staff("hd_colleague", "110108")
    review.approve(domain, actor=colleague)
    response = client_for(office_user).post(
        DECIDE,
        {"ids": [str(domain.public_id)], "action": "reject", "opinion": "名称不规范", "confirmed": "1"},
        follow=True,
    )
    assert "海淀测试局.政务：该申请当前状态为“待复审”" in response.content.decode()
    domain.refresh_from_db()
    assert domain.status == DomainStatus.PENDING_CONAC
    assert Decision.objects.count() == 1


def test_common_reasons_are_offered(client_for, office_user, conac_user, unit):
    factories.make_domain(unit, "海淀测试局")
    factories.make_domain(unit, "海淀待复审", status=DomainStatus.PENDING_CONAC)
    CommonReason.objects.create(text="域名与单位名称不对应", sort_order=2)
    CommonReason.objects.create(text="请使用单位规范简称", sort_order=1)
    CommonReason.objects.create(text="已停用的原因", is_active=False)
    for user, url in ((office_user, OFFICE_QUEUE), (conac_user, CONAC_QUEUE)):
        text = client_for(user).get(url).content.decode()
        assert "常用不通过原因" in text
        assert text.index("请使用单位规范简称") < text.index("域名与单位名称不对应")
        assert "已停用的原因" not in text


# --- A fixed number of queries ------------------------------------------------------------------


def _fill_queue(count, status, units, other_units):
    for n in range(count):
        unit = units[n % len(units)]
        label = f"海淀申请{n:02d}号"
        factories.make_domain(unit, label, status=status)
        # Each row has alike live names and other domains to show.
        other = other_units[n % len(other_units)]
        factories.make_domain(other, label + "网", status=DomainStatus.ACTIVE)
        factories.make_domain(unit, f"海淀在用{n:02d}", status=DomainStatus.ACTIVE)


def _queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize(("url", "status"), [(OFFICE_QUEUE, "pending_local"), (CONAC_QUEUE, "pending_conac")])
def test_the_queues_run_a_fixed_number_of_queries(client_for, office_user, conac_user, url, status):
    reviewer = client_for(office_user if url == OFFICE_QUEUE else conac_user)
    units = [factories.make_unit(region_code="110108") for _ in range(4)]
    other_units = [factories.make_unit(region_code="110108") for _ in range(3)]
    CommonReason.objects.create(text="名称不规范")

    reviewer.get(url)  # warm the session and content-type caches
    _fill_queue(3, status, units[:2], other_units[:1])  # saving domains drops the kept rows
    few = _queries(reviewer, url)

    Domain.objects.all().delete()
    _fill_queue(25, status, units, other_units)
    many = _queries(reviewer, url)
    assert Domain.objects.filter(status=status).count() == 25
    assert many == few, f"{few} queries for 3 rows, {many} for 20 rows"
    assert few <= 15  # session, user, count, rows, 3 for the rows' context, calendar, reasons, …
    # Once drawn, the rows and the count are kept: the next view runs none of the rows' 5 queries
    # (reserved names, alike names, the units' other domains and their counts, the calendar)
    # nor the count and the planner's estimate.
    assert _queries(reviewer, url) == few - 5 - (2 if connection.vendor == "postgresql" else 1)


def _row(reviewer, domain):
    return row_of(reviewer.get(OFFICE_QUEUE).content.decode(), domain)


def test_a_kept_row_is_drawn_again_when_anything_it_shows_changes(client_for, office_user, unit, other_unit, today_is):
    from conac.models import WorkdayException

    today_is(datetime.date(2026, 12, 4))  # a Friday
    reviewer = client_for(office_user)
    domain = factories.make_domain(unit, "海淀测试局", submitted_at=at(2026, 11, 30))  # the Monday
    assert "无相似的在用名称" in _row(reviewer, domain)
    assert _row(reviewer, domain) == _row(reviewer, domain)  # kept

    # Another unit takes an alike name (a save).
    alike = factories.make_domain(other_unit, "海淀测试局网", status=DomainStatus.ACTIVE)
    assert f"海淀测试局网.政务（{other_unit.name}，注册成功）" in _row(reviewer, domain)
    # Its state changes in bulk, as fee marking and the daily jobs write it (no post_save).
    Domain.objects.filter(pk=alike.pk).update(status=DomainStatus.EXPIRED)
    assert f"海淀测试局网.政务（{other_unit.name}，已过期）" in _row(reviewer, domain)
    # The applying unit is renamed.
    unit.name = "海淀区改名后的测试局"
    unit.save()
    assert "海淀区改名后的测试局" in _row(reviewer, domain)
    # CONAC reserves the name.
    ReservedName.objects.create(label="海淀测试局", suffix="", note="测试保留")
    assert "海淀测试局（保留名称，所有后缀：测试保留）" in _row(reviewer, domain).replace(" ", "")
    # A working day of the wait becomes a holiday: the wait is counted again.
    waited = int(re.search(r"(\d+)个工作日", _row(reviewer, domain)).group(1))
    WorkdayException.objects.create(date=datetime.date(2026, 12, 2), is_workday=False, note="测试")
    assert f"{waited - 1}个工作日" in _row(reviewer, domain)


# --- Notices to the unit ------------------------------------------------------------------------


def test_a_rejection_tells_the_unit_why_by_sms_and_email(
    client_for, office_user, unit, django_capture_on_commit_callbacks, mailoutbox, sms_outbox
):
    from conac.models import Notice

    domain = factories.make_domain(unit, "海淀测试局")
    # A reason as reviewers type it, quotes and ampersand included: the texts are not HTML.
    reason = '名称与单位名称"海淀区测试局"不符 & 请使用<规范简称>'
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(office_user).post(
            DECIDE, {"ids": [str(domain.public_id)], "action": "reject", "opinion": reason, "confirmed": "1"}
        )
    assert response.status_code == 302

    sms = Notice.objects.get(template="domain_rejected", channel="sms")
    email = Notice.objects.get(template="domain_rejected", channel="email")
    assert sms.recipient == unit.contact_mobile and email.recipient == unit.contact_email
    for notice in (sms, email):
        assert "海淀测试局.政务" in notice.body and reason in notice.body and "重新提交" in notice.body
        assert notice.status == Notice.Status.SENT
    assert email.subject == "域名“海淀测试局.政务”审核不通过"

    assert len(sms_outbox) == 1
    assert sms_outbox[0]["to"] == unit.contact_mobile and reason in sms_outbox[0]["body"]
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [unit.contact_email] and reason in mailoutbox[0].body


def test_conac_approval_tells_the_unit_to_pay_its_office(
    client_for, office_user, conac_user, unit, django_capture_on_commit_callbacks, mailoutbox, sms_outbox
):
    from conac.models import Notice

    domain = factories.make_domain(unit, "海淀测试局", years=3)
    with django_capture_on_commit_callbacks(execute=True):
        client_for(office_user).post(DECIDE, {"ids": [str(domain.public_id)], "action": "approve", "confirmed": "1"})
    # The office's approval is not yet news for the unit.
    assert not Notice.objects.filter(template__startswith="domain_").exists()
    assert not sms_outbox and not mailoutbox

    with django_capture_on_commit_callbacks(execute=True):
        client_for(conac_user).post(DECIDE, {"ids": [str(domain.public_id)], "action": "approve", "confirmed": "1"})
    domain.refresh_from_db()
    assert domain.status == DomainStatus.AWAITING_PAYMENT

    notices = Notice.objects.filter(template="domain_approved")
    assert sorted(notices.values_list("channel", flat=True)) == ["email", "sms"]
    for notice in notices:
        assert "海淀测试局.政务" in notice.body and "北京市海淀区委编办" in notice.body and "缴纳" in notice.body
        assert "3年" in notice.body
    assert len(sms_outbox) == 1 and "请向北京市海淀区委编办缴纳" in sms_outbox[0]["body"]
    assert len(mailoutbox) == 1 and "请向北京市海淀区委编办缴纳域名注册费" in mailoutbox[0].body
    assert mailoutbox[0].subject == "域名“海淀测试局.政务”审核通过，请缴费"


def test_a_change_made_by_another_process_reaches_the_kept_rows_within_the_interval(
    client_for, office_user, unit, monkeypatch
):
    from conac import hotcache
    from registry.domains import freshness

    reviewer = client_for(office_user)
    domain = factories.make_domain(unit, "海淀测试局")
    assert "海淀区测试局" in _row(reviewer, domain)
    # Another process renames the unit: here no signal, only the version it bumps after commit.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE registry_unit SET name = %s WHERE id = %s", ["海淀区别处改名局", unit.pk])
    assert "海淀区测试局" in _row(reviewer, domain)  # still kept: nothing said it changed
    freshness.bump()
    clock = hotcache.time.monotonic() + freshness.CHECK_INTERVAL + 0.1
    monkeypatch.setattr(hotcache.time, "monotonic", lambda: clock)
    assert "海淀区别处改名局" in _row(reviewer, domain)
