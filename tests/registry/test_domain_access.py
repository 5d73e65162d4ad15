"""Who may open every domain page: anonymous visitors, the unit, another unit, its office, another
office, the office above it and CONAC. Outside one's scope a domain does not exist (404)."""

import uuid

import pytest

from registry.models import Domain, DomainStatus
from tests import factories

ANON, UNIT, OTHER_UNIT, OFFICE, OTHER_OFFICE, PROVINCE, CONAC = (
    "anonymous",
    "unit_user",
    "other_unit_user",
    "office_user",
    "other_office_user",
    "province_office_user",
    "conac_user",
)
PERSONAS = [ANON, UNIT, OTHER_UNIT, OFFICE, OTHER_OFFICE, PROVINCE, CONAC]


@pytest.fixture
def rejected(unit):
    return factories.make_domain(unit, "海淀测试局", status=DomainStatus.REJECTED)


@pytest.fixture
def as_persona(request, client_for):
    def login(persona):
        return client_for(None if persona == ANON else request.getfixturevalue(persona))

    return login


def expect_login_redirect(response, url):
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={url}"


# What each persona gets on each page that holds no particular domain (GET).
PAGES = {
    "/domains/apply/": {UNIT: 200, OTHER_UNIT: 200, OFFICE: 403, OTHER_OFFICE: 403, PROVINCE: 403, CONAC: 403},
    "/domains/mine/": {UNIT: 200, OTHER_UNIT: 200, OFFICE: 403, OTHER_OFFICE: 403, PROVINCE: 403, CONAC: 403},
    "/domains/search/": {UNIT: 403, OTHER_UNIT: 403, OFFICE: 200, OTHER_OFFICE: 200, PROVINCE: 200, CONAC: 200},
    "/domains/search/export/": {
        UNIT: 403,
        OTHER_UNIT: 403,
        OFFICE: 200,
        OTHER_OFFICE: 200,
        PROVINCE: 200,
        CONAC: 200,
    },
    "/domains/review/office/": {
        UNIT: 403,
        OTHER_UNIT: 403,
        OFFICE: 200,
        OTHER_OFFICE: 200,
        PROVINCE: 200,
        CONAC: 403,
    },
    "/domains/review/conac/": {
        UNIT: 403,
        OTHER_UNIT: 403,
        OFFICE: 403,
        OTHER_OFFICE: 403,
        PROVINCE: 403,
        CONAC: 200,
    },
}


@pytest.mark.parametrize("url", list(PAGES))
@pytest.mark.parametrize("persona", PERSONAS)
def test_pages(as_persona, url, persona):
    response = as_persona(persona).get(url)
    if persona == ANON:
        expect_login_redirect(response, url)
    else:
        assert response.status_code == PAGES[url][persona], (url, persona)


# POST-only actions: who is let in at all (a refused role never reaches the action).
ACTIONS = {
    # Allowed reviewers: back to their queue (PRG) with the form's errors.
    "/domains/review/decide/": {UNIT: 403, OTHER_UNIT: 403, OFFICE: 302, PROVINCE: 302, CONAC: 302},
    "/domains/delete/": {UNIT: 403, OTHER_UNIT: 403, OFFICE: 302, PROVINCE: 302, CONAC: 403},
}


@pytest.mark.parametrize("url", list(ACTIONS))
@pytest.mark.parametrize("persona", [ANON, UNIT, OTHER_UNIT, OFFICE, PROVINCE, CONAC])
def test_actions(as_persona, url, persona, rejected):
    # An empty submission: allowed reviewers are sent back (302) with the form's errors or a message.
    response = as_persona(persona).post(url, {})
    if persona == ANON:
        expect_login_redirect(response, url)
    else:
        assert response.status_code == ACTIONS[url][persona], (url, persona)
    rejected.refresh_from_db()
    assert rejected.status == DomainStatus.REJECTED


@pytest.mark.parametrize("url", list(ACTIONS))
def test_actions_refuse_get(as_persona, url):
    assert as_persona(OFFICE).get(url).status_code == 405


def test_units_cannot_decide_even_with_a_valid_form(as_persona, unit):
    domain = factories.make_domain(unit, "海淀待审")
    response = as_persona(UNIT).post("/domains/review/decide/", {"ids": [str(domain.public_id)], "action": "approve"})
    assert response.status_code == 403
    domain.refresh_from_db()
    assert domain.status == DomainStatus.PENDING_LOCAL


def test_conac_cannot_delete_even_with_a_valid_form(as_persona, unit):
    domain = factories.make_domain(unit, "海淀在用", status=DomainStatus.ACTIVE)
    response = as_persona(CONAC).post("/domains/delete/", {"ids": [str(domain.public_id)], "reason": "撤销"})
    assert response.status_code == 403
    domain.refresh_from_db()
    assert domain.status == DomainStatus.ACTIVE


# A domain's own page: the unit's, its office's and those above it, CONAC's; nobody else's.
DETAIL = {UNIT: 200, OTHER_UNIT: 404, OFFICE: 200, OTHER_OFFICE: 404, PROVINCE: 200, CONAC: 200}


@pytest.mark.parametrize("persona", PERSONAS)
def test_domain_detail(as_persona, rejected, persona):
    url = f"/domains/{rejected.public_id}/"
    response = as_persona(persona).get(url)
    if persona == ANON:
        expect_login_redirect(response, url)
        return
    assert response.status_code == DETAIL[persona], persona
    if response.status_code == 200:
        assert "海淀测试局.政务" in response.content.decode()


def test_an_unknown_domain_is_not_found(as_persona):
    assert as_persona(CONAC).get(f"/domains/{uuid.uuid4()}/").status_code == 404
    assert as_persona(CONAC).get("/domains/12/").status_code == 404  # no integer ids in URLs


def test_an_administrator_account_without_a_role_sees_no_domain(client_for, rejected):
    admin = factories.make_staff("plain_admin", None, role="admin")
    assert client_for(admin).get(f"/domains/{rejected.public_id}/").status_code == 404


RESUBMIT = {UNIT: 200, OTHER_UNIT: 404, OFFICE: 403, OTHER_OFFICE: 403, PROVINCE: 403, CONAC: 403}


@pytest.mark.parametrize("persona", PERSONAS)
def test_resubmit(as_persona, rejected, persona):
    url = f"/domains/{rejected.public_id}/resubmit/"
    client = as_persona(persona)
    response = client.get(url)
    if persona == ANON:
        expect_login_redirect(response, url)
    else:
        assert response.status_code == RESUBMIT[persona], persona
    if persona != UNIT:
        posted = client.post(url, {"label": "海淀测试局", "suffix": ".政务", "years": "2"})
        assert posted.status_code == (302 if persona == ANON else RESUBMIT[persona])
        rejected.refresh_from_db()
        assert (rejected.status, rejected.review_round, rejected.years) == (DomainStatus.REJECTED, 1, 1)


def test_another_units_resubmit_is_not_found_even_with_a_new_name(as_persona, rejected):
    response = as_persona(OTHER_UNIT).post(
        f"/domains/{rejected.public_id}/resubmit/", {"label": "别人的新名称", "suffix": ".政务", "years": "3"}
    )
    assert response.status_code == 404
    assert not Domain.objects.filter(label="别人的新名称").exists()
    rejected.refresh_from_db()
    assert rejected.label == "海淀测试局"


def test_a_unit_lists_only_its_own_applications(as_persona, rejected, other_unit):
    factories.make_domain(other_unit, "别人的申请")
    for url in ("/domains/apply/", "/domains/mine/"):
        text = as_persona(UNIT).get(url).content.decode()
        assert "海淀测试局.政务" in text and "别人的申请" not in text
