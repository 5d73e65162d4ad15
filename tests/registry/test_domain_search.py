"""网上名称管理——域名查询: scope, filters, paging, 导出Excel and 删除域名."""

import datetime
import io

import idna
import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conac.audit import history_of
from conac.models import ExportJob
from registry.models import Domain, DomainStatus, UnitKind
from tests import factories

SEARCH = "/domains/search/"
EXPORT = "/domains/search/export/"
DELETE = "/domains/delete/"


def listed(response):
    """The full names on the page's result table, in order."""
    assert response.status_code == 200
    return [d.full_name for d in response.context["page"].object_list]


@pytest.fixture
def domains(unit, other_unit, shanghai_unit):
    """海淀's two units and 上海's unit with domains in several states."""
    made = {
        "hd_active": factories.make_domain(unit, "海淀测试局", status=DomainStatus.ACTIVE),
        "hd_pending": factories.make_domain(unit, "海淀区政务服务", status=DomainStatus.PENDING_LOCAL),
        "hd_other": factories.make_domain(other_unit, "海淀另一单位", status=DomainStatus.AWAITING_PAYMENT),
        "hd_expired": factories.make_domain(other_unit, "海淀过期局", status=DomainStatus.EXPIRED),
        "sh_active": factories.make_domain(shanghai_unit, "上海测试局", status=DomainStatus.ACTIVE),
    }
    expiries = {
        "hd_active": datetime.date(2026, 3, 1),
        "hd_other": datetime.date(2026, 6, 30),
        "hd_expired": datetime.date(2025, 12, 31),
        "sh_active": datetime.date(2026, 4, 15),
    }
    for key, expires_on in expiries.items():
        Domain.objects.filter(pk=made[key].pk).update(expires_on=expires_on)
    return made


@pytest.fixture
def office(client_for, office_user):
    return client_for(office_user)


# --- Scope ----------------------------------------------------------------------------------


def test_the_office_sees_its_units_domains(office, domains):
    names_listed = listed(office.get(SEARCH))
    assert sorted(names_listed) == sorted(
        ["海淀测试局.政务", "海淀区政务服务.政务", "海淀另一单位.政务", "海淀过期局.政务"]
    )
    text = office.get(SEARCH).content.decode()
    assert "网上名称管理——域名查询" in text and "删除域名" in text and "导出Excel" in text


def test_the_province_office_sees_the_offices_below_it(client_for, province_office_user, domains):
    assert "海淀测试局.政务" in listed(client_for(province_office_user).get(SEARCH))
    assert "上海测试局.政务" not in listed(client_for(province_office_user).get(SEARCH))


def test_another_office_sees_only_its_own(client_for, other_office_user, domains):
    assert listed(client_for(other_office_user).get(SEARCH)) == ["上海测试局.政务"]


def test_conac_sees_every_domain_but_cannot_delete(client_for, conac_user, domains):
    response = client_for(conac_user).get(SEARCH)
    assert len(listed(response)) == 5
    assert "删除域名" not in response.content.decode()


# --- Filters -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("海淀", ["海淀测试局.政务", "海淀区政务服务.政务", "海淀另一单位.政务", "海淀过期局.政务"]),
        ("海淀测试", ["海淀测试局.政务"]),
        ("海淀测试局.政务", ["海淀测试局.政务"]),
        ("海淀测试局。政务", ["海淀测试局.政务"]),
        ("  海淀另一单位  ", ["海淀另一单位.政务"]),
        (idna.encode("海淀过期局").decode(), ["海淀过期局.政务"]),
        (idna.encode("海淀过期局").decode().upper(), ["海淀过期局.政务"]),
        (f"{idna.encode('海淀过期局').decode()}.xn--zfr164b", ["海淀过期局.政务"]),
        ("海淀测试局.公益", []),
        ("朝阳", []),
    ],
)
def test_filter_by_domain(office, domains, term, expected):
    assert sorted(listed(office.get(SEARCH, {"domain": term}))) == sorted(expected)


def test_a_name_under_the_other_suffix_is_told_apart(client_for, conac_user, domains):
    institution = factories.make_unit(kind=UnitKind.INSTITUTION, region_code="110108")
    factories.make_domain(institution, "海淀测试局")
    conac = client_for(conac_user)
    assert sorted(listed(conac.get(SEARCH, {"domain": "海淀测试局"}))) == ["海淀测试局.公益", "海淀测试局.政务"]
    assert listed(conac.get(SEARCH, {"domain": "海淀测试局.公益"})) == ["海淀测试局.公益"]
    assert listed(conac.get(SEARCH, {"domain": "海淀测试局.xn--55qw42g"})) == ["海淀测试局.公益"]


def test_filter_by_unit_name(office, domains, other_unit):
    assert sorted(listed(office.get(SEARCH, {"unit_name": "另一"}))) == ["海淀另一单位.政务", "海淀过期局.政务"]
    assert listed(office.get(SEARCH, {"unit_name": "上海"})) == []  # out of scope stays out


def test_filter_by_status(office, domains):
    assert listed(office.get(SEARCH, {"status": "expired"})) == ["海淀过期局.政务"]
    assert listed(office.get(SEARCH, {"status": "rejected"})) == []


def test_filter_by_expiry_range_inclusive_and_ordered_by_expiry(office, domains):
    response = office.get(SEARCH, {"expires_from": "2025-12-31", "expires_to": "2026-03-01"})
    assert listed(response) == ["海淀过期局.政务", "海淀测试局.政务"]
    assert listed(office.get(SEARCH, {"expires_from": "2026-03-02"})) == ["海淀另一单位.政务"]
    assert listed(office.get(SEARCH, {"expires_to": "2025-12-31"})) == ["海淀过期局.政务"]
    text = response.content.decode()
    assert "2025-12-31" in text and "2026-03-01" in text


def test_filters_combine(office, domains):
    response = office.get(SEARCH, {"domain": "海淀", "unit_name": "另一", "expires_from": "2026-01-01"})
    assert listed(response) == ["海淀另一单位.政务"]


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("expires_from", "2026-13-01", "没有13月（月份应为1至12），请输入有效的日期。"),
        ("expires_to", "abc", "请输入有效的日期，例如 2026-12-31 或 2026年12月31日。"),
        ("expires_from", "2026/02/30", "2026年2月没有30日，请输入有效的日期。"),
        ("expires_to", "12/31/2026", "请输入有效的日期，例如 2026-12-31 或 2026年12月31日。"),
    ],
)
def test_a_bad_date_is_refused_at_its_field(office, domains, field, value, error):
    response = office.get(SEARCH, {field: value})
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [error]
    assert "请输入有效的日期" in response.content.decode()
    assert listed(response) == []


def test_start_after_end_is_refused(office, domains):
    response = office.get(SEARCH, {"expires_from": "2026-06-01", "expires_to": "2026-01-01"})
    assert response.context["form"].errors["expires_to"] == ["到期时间 (止) 不能早于到期时间 (起)。"]
    assert "不能早于到期时间 (起)" in response.content.decode()
    assert listed(response) == []


def test_results_are_paginated_and_pages_keep_the_filter(office, unit):
    for n in range(25):
        factories.make_domain(unit, f"海淀分页{n:02d}")
    factories.make_domain(unit, "朝阳不相关")
    first = office.get(SEARCH, {"domain": "海淀分页"})
    assert len(listed(first)) == 20
    text = first.content.decode()
    assert "第 1 / 2 页，共 25 条" in text
    assert "?domain=%E6%B5%B7%E6%B7%80%E5%88%86%E9%A1%B5&page=2" in text
    second = office.get(SEARCH, {"domain": "海淀分页", "page": "2"})
    assert len(listed(second)) == 5
    assert set(listed(first)).isdisjoint(listed(second))
    assert "朝阳不相关.政务" not in listed(first) + listed(second)


def test_the_search_runs_a_fixed_number_of_queries(office, unit, other_unit):
    def fill(count):
        for n in range(count):
            owner = unit if n % 2 else other_unit
            domain = factories.make_domain(owner, f"海淀查询{n:02d}", status=DomainStatus.ACTIVE)
            Domain.objects.filter(pk=domain.pk).update(expires_on=datetime.date(2026, 1, 1) + datetime.timedelta(n))

    query = {"domain": "海淀", "expires_from": "2026-01-01", "expires_to": "2026-12-31"}

    def count():
        with CaptureQueriesContext(connection) as queries:
            response = office.get(SEARCH, query)
        assert response.status_code == 200
        return len(queries), len(listed(response))

    fill(3)
    office.get(SEARCH)  # warm the session
    few, rows = count()
    assert rows == 3
    Domain.objects.all().delete()
    fill(25)
    many, rows = count()
    assert rows == 20
    assert many == few, f"{few} queries for 3 rows, {many} for 20 rows"


# --- 导出Excel -------------------------------------------------------------------------------


def read_xlsx(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response["Content-Disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    return [list(row) for row in workbook.active.iter_rows(values_only=True)]


def test_export_matches_the_filter(office, domains, unit, other_unit):
    rows = read_xlsx(office.get(EXPORT, {"domain": "海淀", "expires_from": "2026-01-01", "expires_to": "2026-12-31"}))
    header, *data = rows
    assert header[:8] == ["域名", "英文编码", "单位名称", "同级编办", "状态", "注册年限", "注册日期", "到期时间"]
    assert [row[0] for row in data] == ["海淀测试局.政务", "海淀另一单位.政务"]
    first = data[0]
    assert first[1] == f"{idna.encode('海淀测试局').decode()}.xn--zfr164b"
    assert first[2:6] == [unit.name, "北京市海淀区委编办", "注册成功", 1]
    assert first[7].date() == datetime.date(2026, 3, 1)
    assert data[1][2] == other_unit.name


def test_export_of_everything_in_scope(office, domains):
    rows = read_xlsx(office.get(EXPORT))
    assert sorted(row[0] for row in rows[1:]) == sorted(
        ["海淀测试局.政务", "海淀区政务服务.政务", "海淀另一单位.政务", "海淀过期局.政务"]
    )


def test_export_with_a_bad_filter_goes_back_with_a_message(office, domains):
    response = office.get(EXPORT, {"expires_from": "abc"}, follow=True)
    assert response.redirect_chain[-1][0].startswith(SEARCH)
    assert "查询条件有误，请修改后再导出。" in response.content.decode()


# --- 删除域名 ---------------------------------------------------------------------------------


def delete(client, *domains, reason="单位撤销", follow=True):
    # "confirmed": the answer to “确认删除 N 个域名？” (tests/billing/test_confirmations.py asks it).
    data = {"ids": [str(d.public_id) for d in domains], "reason": reason, "next": SEARCH, "confirmed": "1"}
    return client.post(DELETE, data, follow=follow)


def test_the_office_deletes_with_a_reason_and_the_domain_stays_in_history(office, office_user, domains):
    active, pending = domains["hd_active"], domains["hd_pending"]
    response = delete(office, active, pending, reason="单位已撤销")
    assert response.redirect_chain[-1][0] == SEARCH
    assert "已删除 2 个域名" in response.content.decode()

    for domain, before in ((active, "注册成功"), (pending, "待审核")):
        domain.refresh_from_db()
        assert domain.status == DomainStatus.DELETED
        assert domain.delete_reason == "单位已撤销" and domain.deleted_at is not None
        entry = history_of(domain).first()
        assert (entry.action, entry.from_state, entry.to_state, entry.reason, entry.actor) == (
            "删除域名",
            before,
            "已删除",
            "单位已撤销",
            office_user,
        )

    # Still found by 域名查询, marked 已删除.
    found = office.get(SEARCH, {"domain": "海淀测试局"})
    assert listed(found) == ["海淀测试局.政务"]
    assert "已删除" in found.content.decode()
    assert listed(office.get(SEARCH, {"status": "deleted"})) == ["海淀区政务服务.政务", "海淀测试局.政务"]


@pytest.mark.parametrize("reason", ["", "   "])
def test_deleting_without_a_reason_deletes_nothing(office, domains, reason):
    response = delete(office, domains["hd_active"], reason=reason)
    assert "删除域名必须填写删除原因。" in response.content.decode()
    domains["hd_active"].refresh_from_db()
    assert domains["hd_active"].status == DomainStatus.ACTIVE
    assert not history_of(domains["hd_active"]).exists()


def test_deleting_without_ticking_anything_is_refused(office, domains):
    response = office.post(DELETE, {"reason": "单位撤销"}, follow=True)
    assert "请先勾选要删除的域名。" in response.content.decode()
    assert not Domain.objects.filter(status=DomainStatus.DELETED).exists()


def test_another_office_cannot_delete(client_for, other_office_user, domains):
    response = delete(client_for(other_office_user), domains["hd_active"])
    assert "1 个所选域名不存在或不在您的管理范围内，未删除。" in response.content.decode()
    domains["hd_active"].refresh_from_db()
    assert domains["hd_active"].status == DomainStatus.ACTIVE


def test_the_province_office_cannot_delete_a_county_units_domain(client_for, province_office_user, domains):
    response = delete(client_for(province_office_user), domains["hd_active"])
    assert "“海淀测试局.政务”不属于本编办管理，不能删除。" in response.content.decode()
    domains["hd_active"].refresh_from_db()
    assert domains["hd_active"].status == DomainStatus.ACTIVE


def test_deleting_twice_says_so_and_changes_nothing(office, domains):
    delete(office, domains["hd_active"], reason="第一次")
    response = delete(office, domains["hd_active"], reason="第二次")
    assert "“海淀测试局.政务”已删除。" in response.content.decode()
    domains["hd_active"].refresh_from_db()
    assert domains["hd_active"].delete_reason == "第一次"
    assert history_of(domains["hd_active"]).count() == 1


@pytest.mark.parametrize(
    ("next_url", "back"),
    [
        ("/domains/search/?status=active&page=2", "/domains/search/?status=active&page=2"),
        ("https://evil.example/", SEARCH),
        ("//evil.example/domains/search/", SEARCH),
        ("/\\evil.example/", SEARCH),
        ("", SEARCH),
    ],
)
def test_delete_goes_back_only_to_a_page_of_this_site(office, domains, next_url, back):
    response = office.post(
        DELETE,
        {"ids": [str(domains["hd_active"].public_id)], "reason": "单位撤销", "next": next_url, "confirmed": "1"},
    )
    assert response.status_code == 302 and response["Location"] == back


def test_a_page_of_rows_is_exported_at_once(client_for, conac_user, unit):
    for i in range(20):  # PER_PAGE
        factories.make_domain(unit, f"一页导出{i}")
    response = client_for(conac_user).get(EXPORT, {"domain": "一页导出"})
    rows = read_xlsx(response)
    assert len(rows) == 21
    assert not ExportJob.objects.exists()


def test_more_than_a_page_is_exported_by_a_job_with_no_upper_limit(
    client_for, conac_user, unit, django_capture_on_commit_callbacks
):
    from registry.domains import queries as domain_queries

    assert not hasattr(domain_queries, "EXPORT_MAX_ROWS")  # the 100,000-row cap is gone
    for i in range(21):
        factories.make_domain(unit, f"多页导出{i}")
    client = client_for(conac_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(EXPORT, {"domain": "多页导出"})
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response.url == f"/exports/{job.public_id}/"
    assert (job.owner, job.status, job.rows_total, job.rows_done) == (conac_user, "done", 21, 21)
    page = client.get(response.url).content.decode()
    assert "已完成" in page and f"/exports/{job.public_id}/download/" in page
    rows = read_xlsx(client.get(f"/exports/{job.public_id}/download/"))
    assert sorted(row[0] for row in rows[1:]) == sorted(f"多页导出{i}.政务" for i in range(21))


def test_an_office_job_exports_exactly_what_its_synchronous_export_shows(
    office, office_user, domains, unit, shanghai_unit, django_capture_on_commit_callbacks, monkeypatch
):
    """The same query in the same scope (visible_to) whichever path writes it."""
    from registry.domains import views as domain_views

    for i in range(3):
        factories.make_domain(shanghai_unit, f"上海范围{i}")
    at_once = read_xlsx(office.get(EXPORT))
    monkeypatch.setattr(domain_views, "PER_PAGE", 1)
    with django_capture_on_commit_callbacks(execute=True):
        response = office.get(EXPORT)
    job = ExportJob.objects.get(owner=office_user)
    by_job = read_xlsx(office.get(f"/exports/{job.public_id}/download/"))
    assert by_job == at_once
    assert {row[3] for row in by_job[1:]} == {"北京市海淀区委编办"}
    assert response.status_code == 302
