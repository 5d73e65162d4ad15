"""domain/<name>: every member RFC 9083 and the ICANN profile ask for, in every state of a name."""

import datetime
import json

import pytest

from badges.hotpath import paths as badge_paths
from badges.services import revoke_badge
from registry.dns.models import DnsRecord
from tests import factories
from tests.badges.helpers import approve_both, live_domain, submit
from tests.rdap.conftest import BASE, rdap

ALABEL = "xn--dgt990b0d2lx14k.xn--zfr164b"  # 海淀测试局.政务


def actions(body):
    return {event["eventAction"]: event["eventDate"] for event in body["events"]}


def entity(body, role):
    [found] = [e for e in body["entities"] if role in e["roles"]]
    return found


def vcard_properties(found):
    return {prop[0]: prop[3] for prop in found["vcardArray"][1]}


@pytest.mark.django_db
def test_an_active_idn_name_as_u_label_answers_every_member(client, active):
    response, body = rdap(client, "domain/海淀测试局.政务")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/rdap+json"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Cache-Control"] == "public, max-age=60"
    assert response["ETag"].startswith('"') and int(response["Content-Length"]) == len(response.content)
    assert body["rdapConformance"] == ["rdap_level_0", "redacted"]
    assert body["objectClassName"] == "domain"
    assert body["ldhName"] == ALABEL
    assert body["unicodeName"] == "海淀测试局.政务"
    assert body["handle"] == f"D{active.public_id.hex.upper()}-CONAC"
    assert body["status"] == ["active"]
    assert "port43" not in body
    assert actions(body)["registration"] == "2025-03-01T00:00:00+08:00"
    assert actions(body)["expiration"] == "2027-03-01T23:59:59+08:00"
    assert set(actions(body)) == {"registration", "expiration", "last changed", "last update of RDAP database"}
    assert body["secureDNS"] == {"zoneSigned": False, "delegationSigned": False}
    # Not delegated: the registry's own name servers hold its records.
    assert body["nameservers"] == [
        {"objectClassName": "nameserver", "ldhName": "ns1.conac.cn", "ipAddresses": {"v4": ["203.119.25.1"]}},
        {"objectClassName": "nameserver", "ldhName": "ns2.conac.cn", "ipAddresses": {"v6": ["2001:dc7::1"]}},
    ]
    assert body["links"] == [
        {"value": BASE + "domain/" + ALABEL, "rel": "self", "href": BASE + "domain/" + ALABEL,
         "type": "application/rdap+json"},
    ]  # fmt: skip
    assert [n["title"] for n in body["notices"]] == ["Terms of Use", "Status Codes", "Inaccuracy Report"]
    assert body["notices"][2]["links"][0]["href"] == "mailto:rdap@conac.cn"


@pytest.mark.django_db
def test_the_registrant_office_and_registry_appear_in_their_roles_with_public_facts_only(client, active):
    _, body = rdap(client, "domain/海淀测试局.政务")

    registrant = entity(body, "registrant")
    assert registrant["handle"] == f"U{active.unit.public_id.hex.upper()}-CONAC"
    card = vcard_properties(registrant)
    assert card["fn"] == "海淀区测试局" and card["kind"] == "org"
    assert card["adr"] == ["", "", "", "海淀区", "北京市", "", ""]
    assert "tel" not in card and "email" not in card
    assert {"title": "单位类型", "description": ["党政机关"]} in registrant["remarks"]
    assert {"title": "所在地区", "description": ["北京市海淀区"]} in registrant["remarks"]

    office = entity(body, "reseller")
    assert office["handle"] == "O110108-CONAC" and vcard_properties(office)["fn"] == "北京市海淀区委编办"

    registry = entity(body, "registrar")
    assert registry["handle"] == "CONAC"
    [abuse] = registry["entities"]
    assert abuse["roles"] == ["abuse"] and vcard_properties(abuse)["email"] == "rdap@conac.cn"


@pytest.mark.django_db
def test_redacted_lists_the_withheld_personal_data_with_paths_methods_and_reasons(client, active):
    _, body = rdap(client, "domain/海淀测试局.政务")

    by_name = {r["name"].get("type") or r["name"]["description"]: r for r in body["redacted"]}
    assert {"Registrant Phone", "Registrant Email", "Registrant Street"} <= set(by_name)
    assert by_name["Registrant Phone"]["method"] == "removal"
    assert by_name["Registrant Phone"]["prePath"].endswith("[?(@[0]=='tel')]")
    assert by_name["Registrant Street"]["method"] == "emptyValue"
    assert by_name["Registrant Street"]["postPath"].endswith("[3][2]")
    assert any("身份证" in name for name in by_name)
    assert any("联系人" in name for name in by_name)
    for redaction in body["redacted"]:
        assert redaction["method"] in ("removal", "emptyValue", "partialValue", "replacementValue")
        assert redaction["reason"]["description"]
        assert redaction.get("pathLang", "jsonpath") == "jsonpath"
    # The emptied street is really empty.
    assert vcard_properties(entity(body, "registrant"))["adr"][2] == ""


@pytest.mark.django_db
@pytest.mark.parametrize(
    "asked",
    [
        ALABEL,
        ALABEL.upper(),
        "XN--DGT990B0D2LX14K.xn--ZFR164B.",
        "海淀测试局.政务.",
        "海淀测试局。政务",
        "海淀测试局.xn--zfr164b",
    ],
)
def test_the_a_label_mixed_case_and_a_trailing_dot_name_the_same_domain(client, active, asked):
    response, body = rdap(client, "domain/" + asked)
    assert response.status_code == 200
    assert body["ldhName"] == ALABEL and body["unicodeName"] == "海淀测试局.政务"


@pytest.mark.django_db
@pytest.mark.parametrize("state", ["pending_local", "pending_conac", "awaiting_payment", "fee_marked", "activating"])
def test_a_name_in_review_or_payment_is_pending_create_without_dates_or_name_servers(client, unit, state):
    factories.make_domain(unit, "海淀审核局", status=state)
    response, body = rdap(client, "domain/海淀审核局.政务")
    assert response.status_code == 200
    assert body["status"] == ["pending create"]
    assert set(actions(body)) == {"last changed", "last update of RDAP database"}
    assert body["nameservers"] == []


@pytest.mark.django_db
def test_an_expired_name_is_inactive_in_redemption_without_name_servers(client, unit):
    factories.make_domain(
        unit, "海淀过期局", status="expired",
        registered_on=datetime.date(2023, 5, 1), expires_on=datetime.date(2024, 5, 1),
    )  # fmt: skip
    response, body = rdap(client, "domain/海淀过期局.政务")
    assert response.status_code == 200
    assert body["status"] == ["inactive", "redemption period"]
    assert actions(body)["expiration"] == "2024-05-01T23:59:59+08:00"
    assert body["nameservers"] == []


@pytest.mark.django_db
@pytest.mark.parametrize("state", ["deleted", "rejected"])
def test_a_deleted_or_rejected_name_is_not_found(client, unit, state):
    factories.make_domain(unit, "海淀删除局", status=state)
    response, body = rdap(client, "domain/海淀删除局.政务")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/rdap+json"
    assert body["errorCode"] == 404 and body["title"] == "Not Found"
    assert body["rdapConformance"] == ["rdap_level_0", "redacted"]


@pytest.mark.django_db
def test_a_name_deleted_and_applied_for_again_shows_the_live_application(client, unit, other_unit):
    factories.make_domain(unit, "海淀重用局", status="deleted")
    factories.make_domain(other_unit, "海淀重用局", status="pending_local")
    _, body = rdap(client, "domain/海淀重用局.政务")
    assert body["status"] == ["pending create"]
    assert vcard_properties(entity(body, "registrant"))["fn"] == "海淀区另一单位"


@pytest.mark.django_db
def test_a_delegated_name_lists_its_name_servers_with_glue(client, active):
    inside = "ns1." + ALABEL
    for value in (inside, "ns.example.net"):
        DnsRecord.objects.create(domain=active, host="@", rtype="NS", value=value, ttl=3600)
    DnsRecord.objects.create(domain=active, host="ns1", rtype="A", value="192.0.2.53", ttl=3600)
    DnsRecord.objects.create(domain=active, host="ns1", rtype="AAAA", value="2001:db8::53", ttl=3600)
    DnsRecord.objects.create(domain=active, host="www", rtype="A", value="192.0.2.80", ttl=3600)

    _, body = rdap(client, "domain/" + ALABEL)

    assert body["nameservers"] == [
        {"objectClassName": "nameserver", "ldhName": inside,
         "ipAddresses": {"v4": ["192.0.2.53"], "v6": ["2001:db8::53"]}},
        {"objectClassName": "nameserver", "ldhName": "ns.example.net"},
    ]  # fmt: skip
    assert body["secureDNS"]["delegationSigned"] is False


@pytest.mark.django_db
def test_a_single_ns_record_is_no_delegation(client, active):
    DnsRecord.objects.create(domain=active, host="@", rtype="NS", value="ns.example.net", ttl=3600)
    _, body = rdap(client, "domain/" + ALABEL)
    assert [ns["ldhName"] for ns in body["nameservers"]] == ["ns1.conac.cn", "ns2.conac.cn"]


@pytest.mark.django_db
def test_a_valid_badge_links_its_certificate_page_until_it_is_revoked(
    client, office_user, conac_user, django_capture_on_commit_callbacks
):
    institution = factories.make_unit(name="海淀区示范图书馆", region_code="110108", kind="institution")
    site = live_domain(institution, "海淀示范图书馆")
    approve_both(submit(site), office_user, conac_user)
    badge = site.badges.get()
    certificate = badge_paths.public_url(badge_paths.certificate_path(badge.certificate_id))

    _, body = rdap(client, "domain/海淀示范图书馆.公益")
    [related] = [link for link in body["links"] if link["rel"] == "related"]
    assert related["href"] == certificate and related["type"] == "text/html"
    assert {"title": "单位类型", "description": ["事业单位"]} in entity(body, "registrant")["remarks"]

    with django_capture_on_commit_callbacks(execute=True):
        revoke_badge(badge, reason="网站已关闭", actor=conac_user)
    _, body = rdap(client, "domain/海淀示范图书馆.公益")
    assert [link["rel"] for link in body["links"]] == ["self"]


@pytest.mark.django_db
def test_a_lookup_runs_a_fixed_number_of_queries_and_none_when_warm(client, active, django_assert_num_queries):
    # One: the domain with its unit, office and their regions, its badge and whether it has NS records.
    with django_assert_num_queries(1):
        assert client.get("/rdap/domain/海淀测试局.政务").status_code == 200
    with django_assert_num_queries(0):
        assert client.get("/rdap/domain/海淀测试局.政务").status_code == 200
        # Another spelling of the same name is warm too: the canonical name is cached.
        assert client.get("/rdap/domain/" + ALABEL.upper()).status_code == 200
    with django_assert_num_queries(1):  # a name nobody holds: one query, then remembered
        assert client.get("/rdap/domain/无人注册.政务").status_code == 404
    with django_assert_num_queries(0):
        assert client.get("/rdap/domain/无人注册.政务").status_code == 404


@pytest.mark.django_db
def test_a_delegated_name_costs_one_more_query(client, active, django_assert_num_queries):
    for value in ("ns1.example.net", "ns2.example.net"):
        DnsRecord.objects.create(domain=active, host="@", rtype="NS", value=value, ttl=3600)
    with django_assert_num_queries(2):
        assert client.get("/rdap/domain/海淀测试局.政务").status_code == 200


@pytest.mark.django_db
def test_a_change_to_the_domain_or_its_unit_is_seen_at_once(client, active, django_capture_on_commit_callbacks):
    assert rdap(client, "domain/海淀测试局.政务")[1]["status"] == ["active"]
    assert rdap(client, "domain/新申请名.政务")[0].status_code == 404

    with django_capture_on_commit_callbacks(execute=True):
        active.status = "expired"
        active.save(update_fields=["status", "updated_at"])
        factories.make_domain(active.unit, "新申请名")
    assert rdap(client, "domain/海淀测试局.政务")[1]["status"] == ["inactive", "redemption period"]
    assert rdap(client, "domain/新申请名.政务")[1]["status"] == ["pending create"]

    with django_capture_on_commit_callbacks(execute=True):
        active.unit.name = "海淀区测试管理局"
        active.unit.save(update_fields=["name"])
    _, body = rdap(client, "domain/海淀测试局.政务")
    assert vcard_properties(entity(body, "registrant"))["fn"] == "海淀区测试管理局"


@pytest.mark.django_db
def test_a_bulk_change_of_the_daily_jobs_is_seen_through_the_zone_version(client, active):
    from registry.dns import forwarding
    from registry.models import Domain

    assert rdap(client, "domain/海淀测试局.政务")[1]["status"] == ["active"]
    Domain.objects.filter(pk=active.pk).update(status="expired")  # as expire_domains writes: no signal
    forwarding.bump_version()  # what its refresh_after_daily_jobs() does after commit
    assert rdap(client, "domain/海淀测试局.政务")[1]["status"] == ["inactive", "redemption period"]


@pytest.mark.django_db
def test_an_unchanged_answer_is_304_to_its_etag_and_head_has_no_body(client, active):
    first = client.get("/rdap/domain/海淀测试局.政务")
    again = client.get("/rdap/domain/海淀测试局.政务", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b""
    head = client.head("/rdap/domain/海淀测试局.政务")
    assert head.status_code == 200 and head.content == b"" and head["Content-Length"] == first["Content-Length"]


@pytest.mark.django_db
def test_the_answer_is_json_a_client_can_read_as_utf8(client, active):
    response = client.get("/rdap/domain/海淀测试局.政务")
    assert json.loads(response.content.decode("utf-8"))["unicodeName"] == "海淀测试局.政务"
