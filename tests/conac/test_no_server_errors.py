"""Bad input never gets a 500: every page, as everyone allowed in, with junk and half-filled data."""

import pytest

from billing import services as billing
from billing.models import Charge, Remittance
from conac.access import rule_of
from registry.dns import services as dns_services
from registry.domains import services as domain_services
from registry.models import DnsRecord
from review import services as review
from tests import factories
from tests.conac.test_access_rules import ALLOWED_ROLES, PERSONAS, _persona_user, app_urls, example_url

JUNK_VALUES = [
    "",
    " ",
    "abc",
    "-1",
    "0",
    "99999999999999999999",
    "1e9",
    "２０２５-１３-４５",
    "<script>",
    "'; drop",
    "\x00",
]


def _junk_payloads(field_names):
    yield {}
    for value in JUNK_VALUES:
        yield {name: value for name in field_names}


FIELDS = [
    "q", "page", "unit", "kind", "lower", "action", "ids", "opinion", "label", "suffix", "years", "domain",
    "unit_name", "status", "expires_from", "expires_to", "reason", "next", "invoice_no", "amount", "charge_ids",
    "remitted_on", "voucher_no", "note", "new_password", "username", "password", "password_confirm", "name",
    "credit_code", "region_0", "region_1", "region_2", "level", "select_all", "query", "name", "region_changed",
    "old_password", "new_password_confirm", "tab", "format", "cancel",
    "host", "rtype", "value", "ttl", "priority", "caa_flags", "caa_tag", "redirect_code", "keep_path", "answer",
    "prompt", "done", "code", "rebind",
    "contact_mobile", "contact_email", "mobile_code", "send_code",
    "refunded_on",
]  # fmt: skip


@pytest.fixture
def objects(unit, unit_user, office_user, conac_user):
    """One real object of each kind in the unit's office, so detail URLs reach their views."""
    domain = domain_services.submit_domain_application(unit, label="无错测试", suffix=".政务", years=1, actor=unit_user)
    review.approve(domain, actor=office_user)
    review.approve(domain, actor=conac_user)
    charge = Charge.objects.get(domain=domain)
    marking = billing.mark_fees_paid(
        unit, charge_ids=[charge.pk], invoice_no="NO500", amount=charge.amount, actor=office_user
    )
    remittance = billing.register_remittance(
        office_user.office, amount="100.00", remitted_on=domain.created_at.date(), voucher_no="NO500", actor=office_user
    )
    # A domain deleted after 收费: its charge is 待退费, for the 退费 page.
    owed = domain_services.submit_domain_application(unit, label="无错退费", suffix=".政务", years=1, actor=unit_user)
    review.approve(owed, actor=office_user)
    review.approve(owed, actor=conac_user)
    owed_charge = Charge.objects.get(domain=owed)
    billing.mark_fees_paid(
        unit, charge_ids=[owed_charge.pk], invoice_no="NO500-2", amount=owed_charge.amount, actor=office_user
    )
    domain_services.delete_domain(owed, reason="无错测试", actor=office_user)
    # An 注册成功 domain with an effective record and a pending @ change, for the 域名解析 pages.
    active = factories.make_domain(unit, "无错解析", status="active", expires_on=domain.created_at.date())
    record = DnsRecord.objects.create(domain=active, host="www", rtype="A", value="202.96.0.1", ttl=600)
    change = dns_services.request_add(active, actor=unit_user, host="@", rtype="A", value="202.96.0.2")
    return {
        "record_id": record.public_id,
        "change_id": change.public_id,
        "public_id": {
            "registry:dns-records": active.public_id,
            "registry:dns-www-prompt": active.public_id,
            "registry:dns-record-modify": active.public_id,
            "registry:dns-record-delete": active.public_id,
            "registry:unit-detail": unit.public_id,
            "registry:domain-detail": domain.public_id,
            "registry:domain-resubmit": domain.public_id,
            "billing:charge-change": charge.public_id,
            "billing:charge-refund": owed_charge.public_id,
            "billing:unit-charges": unit.public_id,
            "billing:marking-receipt": marking.public_id,
            "billing:remittance-confirm": Remittance.objects.get(pk=remittance.pk).public_id,
        },
        "code": office_user.office.code,
    }


@pytest.mark.parametrize("persona", PERSONAS)
def test_no_page_answers_500_to_junk(client_for, request, persona, objects):
    client = client_for(_persona_user(request, persona))
    errors = []
    for route, pattern, namespaces in app_urls():
        if persona not in ALLOWED_ROLES[rule_of(pattern.callback)]:
            continue
        name = ":".join([*namespaces, pattern.name]) if pattern.name else None
        kwargs = {}
        if "public_id" in pattern.pattern.converters and name in objects["public_id"]:
            kwargs["public_id"] = objects["public_id"][name]
        for key in ("record_id", "change_id"):
            if key in pattern.pattern.converters:
                kwargs[key] = objects[key]
        if "code" in pattern.pattern.converters:
            kwargs["code"] = objects["code"]
        url = example_url(route, pattern, namespaces, kwargs)
        if name == "logout":
            continue  # ends the session the rest of the walk needs
        for payload in _junk_payloads(FIELDS):
            for method in ("get", "post"):
                response = getattr(client, method)(url, payload)
                if response.status_code >= 500:
                    errors.append(
                        (method.upper(), url, {k: payload[k] for k in list(payload)[:1]}, response.status_code)
                    )
    assert not errors, errors[:10]


def test_a_nul_byte_gets_a_chinese_400_and_changes_nothing(client_for, unit_user):
    from registry.models import Domain

    response = client_for(unit_user).post("/domains/apply/", {"label": "空\x00字符", "suffix": ".政务", "years": "1"})
    assert response.status_code == 400
    assert "无效字符" in response.content.decode()
    assert not Domain.objects.exists()


@pytest.mark.parametrize("next_url", ["//evil.example/", "https://evil.example/", "abc", "javascript:alert(1)"])
def test_delete_never_redirects_off_site_or_to_a_view_name(client_for, office_user, next_url):
    response = client_for(office_user).post("/domains/delete/", {"next": next_url})
    assert response.status_code == 302
    assert response.url == "/domains/search/"
