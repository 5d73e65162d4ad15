"""域名查询 and the queues at national scale: the office scope is office_id IN (…) and uses the
composite indexes, counts on large results are bounded (then estimated, shown as “约 N 条”),
and the subtree of offices is cached and dropped when offices change."""

import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conac import pagination
from registry.domains import freshness, queries
from registry.models import Domain, DomainStatus, Office, Region
from tests import factories

SEARCH = "/domains/search/"


def plan_of(queryset):
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    return json.loads(plan) if isinstance(plan, str) else plan


def nodes(plan):
    """Every node of an EXPLAIN (FORMAT JSON) plan."""
    stack = [plan[0]["Plan"]]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node.get("Plans", []))


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.fail("these tests check PostgreSQL's query plans (set DATABASE_URL)")


# --- The office scope ---------------------------------------------------------------------------


def test_the_office_scope_is_office_ids_and_the_same_rows_as_visible_to(province_office_user, unit, shanghai_unit):
    beijing = factories.make_domain(unit, "海淀范围局", status=DomainStatus.ACTIVE)
    factories.make_domain(shanghai_unit, "上海范围局", status=DomainStatus.ACTIVE)
    scoped = queries.visible_domains(province_office_user)
    sql = str(scoped.query)
    assert "registry_office" not in sql and '"office_id" IN (' in sql
    assert list(scoped) == list(Domain.objects.visible_to(province_office_user)) == [beijing]
    # The subtree: 北京市委编办 and every office whose code starts with 11, nothing else.
    ids = queries.office_ids_in_scope(province_office_user.office_id)
    assert set(ids) == set(Office.objects.filter(code__startswith="11").values_list("pk", flat=True))


def test_the_central_office_and_conac_are_not_narrowed(conac_user, unit, shanghai_unit):
    from registry.models import User

    central = User.objects.create(username="zy", role=User.Role.OFFICE, office=Office.objects.get(code="000000"))
    factories.make_domain(unit, "海淀全国局", status=DomainStatus.ACTIVE)
    factories.make_domain(shanghai_unit, "上海全国局", status=DomainStatus.ACTIVE)
    assert queries.visible_domains(central).count() == queries.visible_domains(conac_user).count() == 2
    assert "WHERE" not in str(queries.visible_domains(central).query)


def test_the_office_scope_plan_uses_the_office_expiry_index(postgresql, province_office_user):
    """EXPLAIN: the scope and 到期时间 filter reach registry_domain through an index that starts with
    office_id; no join on registry_office.code LIKE '11%' is left for the planner to hash."""
    today = datetime.date(2026, 1, 1)
    scoped = queries.search(
        queries.visible_domains(province_office_user),
        {"expires_from": today, "expires_to": today + datetime.timedelta(365)},
    )
    with connection.cursor() as cursor:
        # A test database is tiny and a sequential scan would win on cost; what is asserted is
        # that the composite index can serve the query at all, as it does on a large table.
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = plan_of(scoped)
    on_domains = [n for n in nodes(plan) if n.get("Relation Name") == "registry_domain"]
    assert on_domains, plan
    assert all(n["Node Type"] != "Seq Scan" for n in on_domains), plan
    # An Index Scan names its index itself; a Bitmap Heap Scan names it in its Bitmap Index Scan below.
    used = {n.get("Index Name") for n in nodes(plan)} - {None}
    assert used & {"domain_office_expiry_idx", "domain_expiry_idx"}, plan
    assert not [n for n in nodes(plan) if n.get("Relation Name") == "registry_office"], plan


def test_the_office_scope_plan_of_one_office_reads_the_index_in_order(postgresql, office_user):
    """A county office (no offices below it): the rows come out of (office_id, expires_on, id) in
    the page's order, so the page stops after 20 index entries instead of sorting the year."""
    today = datetime.date(2026, 1, 1)
    scoped = queries.search(
        queries.visible_domains(office_user), {"expires_from": today, "expires_to": today + datetime.timedelta(365)}
    )[:20]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = plan_of(scoped)
    assert any(n.get("Index Name") == "domain_office_expiry_idx" for n in nodes(plan)), plan
    assert not any(n["Node Type"] == "Sort" for n in nodes(plan)), plan


def test_a_new_office_below_joins_the_scope_at_once(province_office_user):
    before = queries.office_ids_in_scope(province_office_user.office_id)
    region = Region.objects.create(
        code="119901", name="测试区", full_name="北京市测试区", level=Region.Level.COUNTY,
        parent=Region.objects.get(code="110000"),
    )  # fmt: skip
    office = Office.objects.create(code="119901", name="北京市测试区委编办", region=region, scope_prefix="119901")
    after = queries.office_ids_in_scope(province_office_user.office_id)
    assert office.pk not in before and office.pk in after
    office.delete()
    assert office.pk not in queries.office_ids_in_scope(province_office_user.office_id)


def test_the_scope_is_read_once_per_process_not_per_page(client_for, office_user, unit):
    factories.make_domain(unit, "海淀缓存局", status=DomainStatus.ACTIVE)
    client = client_for(office_user)
    client.get(SEARCH)
    with CaptureQueriesContext(connection) as warm:
        assert client.get(SEARCH).status_code == 200
    assert not [q for q in warm.captured_queries if "registry_office" in q["sql"] and "LIKE" in q["sql"]]


# --- Bounded counts ----------------------------------------------------------------------------


def _fill(unit, count):
    for n in range(count):
        factories.make_domain(unit, f"海淀计数{n:03d}", status=DomainStatus.ACTIVE)


def test_a_small_result_is_counted_exactly(client_for, office_user, unit):
    _fill(unit, 25)
    text = client_for(office_user).get(SEARCH).content.decode()
    assert "第 1 / 2 页，共 25 条" in text and "约" not in text.split("第 1 / 2 页")[1][:40]


def test_a_large_result_is_counted_up_to_a_bound_then_estimated(monkeypatch, client_for, office_user, unit):
    monkeypatch.setattr(pagination, "EXACT_LIMIT", 30)
    _fill(unit, 45)
    client = client_for(office_user)
    client.get(SEARCH)
    freshness.changed()  # counts are kept until domains change: count again
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(SEARCH)
    text = response.content.decode()
    assert "共 约 " in text  # shown honestly as an estimate
    assert response.context["page"].paginator.approximate
    assert len(response.context["page"].object_list) == 20
    counts = [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
    # No count of the whole result: the one count stops after EXACT_LIMIT + 1 rows.
    assert counts and all("LIMIT 31" in sql for sql in counts), counts


def test_the_estimated_count_is_the_planners(postgresql, unit):
    _fill(unit, 30)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE registry_domain")
    estimate = pagination.estimated_count(Domain.objects.filter(unit=unit))
    assert 15 <= estimate <= 60  # the planner's figure, not an exact count and not a placeholder
    paginator = pagination.BoundedPaginator(Domain.objects.filter(unit=unit).order_by("-id"), 20, exact_limit=10)
    assert paginator.count >= 11 and paginator.approximate
    assert paginator.count_text.startswith("约 ")


def test_search_query_count_is_the_same_counted_or_estimated(monkeypatch, client_for, office_user, unit):
    client = client_for(office_user)
    _fill(unit, 3)
    client.get(SEARCH)
    freshness.changed()  # counts are kept until domains change: count again
    with CaptureQueriesContext(connection) as exact:
        client.get(SEARCH)
    monkeypatch.setattr(pagination, "EXACT_LIMIT", 2)
    with CaptureQueriesContext(connection) as estimated:
        client.get(SEARCH)

    # On PostgreSQL the EXPLAIN is asked first either way; elsewhere the estimate adds one query.
    # Never a query per row or per office. (Only the domain queries are compared: other parts
    # of the page may refresh a per-process cache at any request.)
    def on_domains(ctx):
        return [q["sql"] for q in ctx.captured_queries if "registry_domain" in q["sql"]]

    added = 0 if connection.vendor == "postgresql" else 1
    assert len(on_domains(estimated)) == len(on_domains(exact)) + added
    assert any(q.startswith("EXPLAIN") for q in on_domains(estimated))
    assert any(q.startswith("EXPLAIN") for q in on_domains(exact)) == (connection.vendor == "postgresql")


def test_an_estimate_far_past_the_bound_is_taken_without_counting(postgresql, unit):
    _fill(unit, 40)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE registry_domain")
    domains = Domain.objects.filter(unit=unit).order_by("-id")
    with CaptureQueriesContext(connection) as ctx:
        paginator = pagination.BoundedPaginator(domains, 20, exact_limit=2)  # 40 > 10 × 2
        assert paginator.approximate is False and paginator.count >= 20 and paginator.approximate
    assert [q["sql"].split()[0] for q in ctx.captured_queries] == ["EXPLAIN"]  # no COUNT at all
    # Within ten times the bound it is still counted up to the bound first.
    with CaptureQueriesContext(connection) as ctx:
        paginator = pagination.BoundedPaginator(domains, 20, exact_limit=30)
        assert paginator.count >= 31 and paginator.approximate
    assert [q["sql"].split()[0] for q in ctx.captured_queries] == ["EXPLAIN", "SELECT"]
    assert "LIMIT 31" in ctx.captured_queries[1]["sql"]


# --- The queue's per-row counts -----------------------------------------------------------------


@pytest.mark.parametrize(("others", "shown"), [(8, "…共5个以上"), (4, "…共4个")])
def test_a_units_other_domains_are_counted_up_to_a_bound(monkeypatch, client_for, office_user, unit, others, shown):
    monkeypatch.setattr(queries, "OTHERS_PER_ROW", 2)
    monkeypatch.setattr(queries, "OTHERS_COUNT_LIMIT", 5)
    pending = factories.make_domain(unit, "海淀计数申请")
    for n in range(others):
        factories.make_domain(unit, f"海淀其他{n:02d}", status=DomainStatus.ACTIVE)
    page = client_for(office_user).get("/domains/review/office/").content.decode()
    row = next(r for r in page.split("<tr")[1:] if str(pending.public_id) in r)
    assert shown in row and ("以上" in shown) == ("以上" in row)


# --- Kept counts ---------------------------------------------------------------------------------


def test_a_count_is_kept_until_domains_change(client_for, office_user, unit, other_unit):
    _fill(unit, 3)
    client = client_for(office_user)

    def count(**query):
        return client.get(SEARCH, query).context["page"].paginator.count

    assert count() == 3
    with CaptureQueriesContext(connection) as again:
        assert count() == 3
    assert not [q for q in again.captured_queries if "COUNT(" in q["sql"].upper() or "EXPLAIN" in q["sql"]]

    factories.make_domain(unit, "海淀计数新增", status=DomainStatus.ACTIVE)  # a save
    assert count() == 4
    Domain.objects.filter(label="海淀计数新增").update(status=DomainStatus.DELETED)  # in bulk
    assert count(status="deleted") == 1 and count(status="active") == 3
    factories.make_domain(other_unit, "海淀计数另一", status=DomainStatus.ACTIVE)
    assert count(unit_name="改名") == 0
    other_unit.name = "海淀区改名单位"  # a unit renamed: 单位名称 searches count again
    other_unit.save()
    assert count(unit_name="改名") == 1
