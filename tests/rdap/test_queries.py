"""Errors, entities, help, searches, rate limits and the RDAP host (RFC 7480, RFC 9082, RFC 9083)."""

import pytest

from registry.models import Domain
from tests import factories
from tests.rdap.conftest import BASE, rdap

# Forty different characters: an A-label far beyond 63 octets.
LONG = "".join(chr(0x4E00 + 37 * i) for i in range(40))


def assert_rdap_error(response, body, status):
    assert response.status_code == status
    assert response["Content-Type"] == "application/rdap+json"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert body["errorCode"] == status and body["title"] and body["description"]
    assert "rdap_level_0" in body["rdapConformance"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    ["domain/a_b.政务", "domain/-abc.政务", "domain/海淀 测试.政务", "domain/a..政务", "domain/xn--zz.政务",
     "domain/海淀、测试.政务", "domain/" + LONG + ".政务", "foo/bar", "domains", "domain/"],
)  # fmt: skip
def test_a_malformed_query_is_400(client, path):
    response, body = rdap(client, path)
    assert_rdap_error(response, body, 400)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["domain/example.com", "domain/海淀测试局.中国", "domain/www.海淀测试局.政务", "domain/政务"]
)
def test_a_name_outside_our_tlds_or_levels_is_404_with_a_notice_and_no_redirect(client, path):
    response, body = rdap(client, path)
    assert_rdap_error(response, body, 404)
    assert "Location" not in response
    assert any(n["title"] == "Not Served Here" for n in body["notices"])


@pytest.mark.django_db
def test_a_name_nobody_holds_is_404(client):
    response, body = rdap(client, "domain/无人注册.公益")
    assert_rdap_error(response, body, 404)
    assert not any(n["title"] == "Not Served Here" for n in body["notices"])


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["ip/192.0.2.1", "autnum/4134", "nameserver/ns1.conac.cn", "nameservers?ip=192.0.2.1", "entities?fn=x",
             "domains?nsLdhName=ns1.conac.cn"],
)  # fmt: skip
def test_query_types_not_offered_are_501(client, path):
    response, body = rdap(client, path)
    assert_rdap_error(response, body, 501)


@pytest.mark.django_db
def test_only_get_and_head_are_answered_and_cors_preflight_is(client):
    response = client.post("/rdap/help")
    assert response.status_code == 405 and response["Allow"] == "GET, HEAD"
    assert response["Content-Type"] == "application/rdap+json"
    preflight = client.options("/rdap/domain/x.政务")
    assert preflight.status_code == 204 and preflight["Access-Control-Allow-Origin"] == "*"


@pytest.mark.django_db
def test_help_answers_the_notices_and_the_queries_offered(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response, body = rdap(client, "help")
    assert response.status_code == 200 and response["Content-Type"] == "application/rdap+json"
    assert body["rdapConformance"] == ["rdap_level_0", "redacted"]
    assert [n["title"] for n in body["notices"]] == ["Terms of Use", "Queries", "Status Codes", "Inaccuracy Report"]


# --- entities -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_registrant_office_and_conac_are_entities(client, active):
    handle = f"U{active.unit.public_id.hex.upper()}-CONAC"
    response, body = rdap(client, f"entity/{handle}")
    assert response.status_code == 200 and body["objectClassName"] == "entity"
    assert body["handle"] == handle and body["roles"] == ["registrant"]
    assert body["vcardArray"][1][1] == ["fn", {}, "text", "海淀区测试局"]
    assert body["links"][0] == {"value": BASE + f"entity/{handle}", "rel": "self", "href": BASE + f"entity/{handle}",
                                "type": "application/rdap+json"}  # fmt: skip
    assert body["notices"] and body["rdapConformance"] == ["rdap_level_0", "redacted"]

    _, office = rdap(client, "entity/O110108-CONAC")
    assert office["roles"] == ["reseller"] and office["vcardArray"][1][1][3] == "北京市海淀区委编办"
    _, conac = rdap(client, "entity/CONAC")
    assert conac["roles"] == ["registrar"] and conac["entities"][0]["roles"] == ["abuse"]


@pytest.mark.django_db
def test_a_unit_that_holds_no_public_name_and_unknown_handles_are_404(client, unit):
    factories.make_domain(unit, "海淀删除局", status="deleted")
    for handle in (f"U{unit.public_id.hex.upper()}-CONAC", "UFFFF-CONAC", "O999999-CONAC", "O11-CONAC", "nobody"):
        response, body = rdap(client, f"entity/{handle}")
        assert_rdap_error(response, body, 404)


# --- search ---------------------------------------------------------------------------------


@pytest.fixture
def many(unit):
    """25 names 海淀搜索01…25 under .政务, one under .公益 of an institution, and a deleted one."""
    for n in range(1, 26):
        factories.make_domain(unit, f"海淀搜索{n:02d}", status="active" if n % 2 else "pending_local")
    institution = factories.make_unit(name="海淀区示范图书馆", region_code="110108", kind="institution")
    factories.make_domain(institution, "海淀搜索99")
    factories.make_domain(unit, "海淀搜索00", status="deleted")


def names_of(body):
    return [r["unicodeName"] for r in body["domainSearchResults"]]


@pytest.mark.django_db
def test_a_prefix_search_is_paged_in_name_order_with_a_cursor(client, many, settings, django_assert_num_queries):
    settings.RDAP_SEARCH_PAGE_SIZE = 10
    with django_assert_num_queries(1):
        response, body = rdap(client, "domains?name=海淀搜索*.政务")
    assert response.status_code == 200 and response["Content-Type"] == "application/rdap+json"
    assert body["rdapConformance"] == ["rdap_level_0", "paging"]
    assert names_of(body) == [f"海淀搜索{n:02d}.政务" for n in range(1, 11)]
    first = body["domainSearchResults"][0]
    assert first["objectClassName"] == "domain" and first["ldhName"].endswith(".xn--zfr164b")
    assert first["status"] == ["active"] and body["domainSearchResults"][1]["status"] == ["pending create"]
    assert body["paging_metadata"]["pageSize"] == 10
    [following] = body["paging_metadata"]["links"]
    assert following["rel"] == "next" and following["href"].startswith(BASE + "domains?name=")

    seen = names_of(body)
    while True:
        response, body = rdap(client, following["href"].removeprefix(BASE))
        seen += names_of(body)
        links = body["paging_metadata"].get("links")
        if not links:
            break
        following = links[0]
    assert seen == [f"海淀搜索{n:02d}.政务" for n in range(1, 26)]


@pytest.mark.django_db
def test_a_search_covers_both_tlds_an_a_label_prefix_and_an_exact_name(client, many):
    _, body = rdap(client, "domains?name=海淀搜索9*")
    assert names_of(body) == ["海淀搜索99.公益"]
    alabel = Domain.objects.get(label="海淀搜索99").alabel
    _, body = rdap(client, f"domains?name={alabel[:8]}*")
    assert "海淀搜索99.公益" in names_of(body)
    _, body = rdap(client, "domains?name=海淀搜索03.政务")
    assert names_of(body) == ["海淀搜索03.政务"]
    _, body = rdap(client, "domains?name=海淀搜索00*")
    assert names_of(body) == []  # deleted names are not found


@pytest.mark.django_db
def test_search_results_are_capped_with_a_truncation_notice(client, many, settings):
    settings.RDAP_SEARCH_PAGE_SIZE = 10
    settings.RDAP_SEARCH_MAX_RESULTS = 20
    _, body = rdap(client, "domains?name=海淀搜索*")
    _, body = rdap(client, body["paging_metadata"]["links"][0]["href"].removeprefix(BASE))
    assert len(body["domainSearchResults"]) == 10
    assert "links" not in body["paging_metadata"]
    assert any(n.get("type") == "result set truncated due to excessive load" for n in body["notices"])


@pytest.mark.django_db
@pytest.mark.parametrize("pattern", ["*", "*海淀.政务", "海*淀*", "a*", "xn--*", "海淀*.example.com", "海_*"])
def test_a_bad_search_pattern_is_refused(client, pattern):
    response, body = rdap(client, f"domains?name={pattern}")
    assert response.status_code in (400, 404) and body["errorCode"] == response.status_code


@pytest.mark.django_db
def test_searches_are_rate_limited_per_client_address_with_retry_after(client, many, settings):
    settings.RDAP_RATE_LIMIT = 3
    for _ in range(3):
        assert client.get("/rdap/domains", {"name": "海淀*"}).status_code == 200
    response, body = rdap(client, "domains?name=海淀*")
    assert_rdap_error(response, body, 429)
    assert 1 <= int(response["Retry-After"]) <= settings.RDAP_RATE_WINDOW
    assert response["Cache-Control"] == "no-store"
    # Another address is not held back.
    assert client.get("/rdap/domains", {"name": "海淀*"}, REMOTE_ADDR="192.0.2.99").status_code == 200


@pytest.mark.django_db
def test_lookups_that_reach_the_database_count_and_warm_ones_do_not(client, active, settings):
    settings.RDAP_RATE_LIMIT = 2
    for _ in range(5):
        assert client.get("/rdap/domain/海淀测试局.政务").status_code == 200  # one miss, then warm
    assert client.get("/rdap/domain/无人一.政务").status_code == 404
    response = client.get("/rdap/domain/无人二.政务")
    assert response.status_code == 429 and response["Retry-After"]
    assert client.get("/rdap/domain/海淀测试局.政务").status_code == 200


# --- the RDAP host ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_rdap_host_answers_rdap_and_nothing_else(client, active):
    response, body = rdap(client, "domain/海淀测试局.政务", HTTP_HOST="rdap.example.test")
    assert response.status_code == 200 and body["unicodeName"] == "海淀测试局.政务"
    staff_page = client.get("/login/", HTTP_HOST="rdap.example.test")
    assert staff_page.status_code == 404 and "登录" not in staff_page.content.decode()
