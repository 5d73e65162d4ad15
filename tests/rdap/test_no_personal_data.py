"""No personal field of any unit reaches any RDAP or 域名信息查询 response, whatever the data.

Each run gives the units' personal fields (负责人, 联系人, 联系人手机, 联系人邮箱, 办公电话, 经办人,
经办人身份证号, 单位地址) and the badge application's contact fields fresh random values, then
reads every kind of response about those units and looks for each value in the bytes.
"""

import random

import pytest

from registry.models import Domain, Unit
from tests import factories
from tests.badges.helpers import approve_both, live_domain, submit
from tests.rdap.conftest import rdap

CJK = [chr(c) for c in range(0x4E00, 0x9FA5)]


def personal_values(rng):
    def words(prefix):
        return prefix + "".join(rng.choice(CJK) for _ in range(6))

    digits = "".join(rng.choice("0123456789") for _ in range(8))
    return {
        "leader": words("负"),
        "contact": words("联"),
        "contact_mobile": f"+86139{digits}",
        "contact_email": f"p{digits}{rng.randrange(10**6)}@person-{digits}.example",
        "office_phone": f"010-6{digits[:7]}",
        "handler": words("经"),
        "handler_id_number": factories.id_number(rng.randrange(1, 10**6)),
        "address": words("住址") + "路" + digits[:3] + "号",
    }


def secrets_of(values):
    """Every form a value could leak in: as stored, and a mobile without its country code."""
    found = set(values.values())
    found.add(values["contact_mobile"].removeprefix("+86"))
    found.add(values["contact_email"].split("@")[0])
    return found


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_no_personal_value_appears_in_any_response(client, unit, office_user, conac_user, seed):
    rng = random.Random(seed)
    institution = factories.make_unit(name="海淀区示范图书馆", region_code="110108", kind="institution")
    sites = [
        live_domain(unit, "海淀测试局"),
        factories.make_domain(unit, "海淀审核局", status="pending_conac"),
        factories.make_domain(unit, "海淀过期局", status="expired"),
        live_domain(institution, "海淀示范图书馆"),
    ]
    application_values = personal_values(rng)
    approve_both(
        submit(
            sites[3],
            contact_name=application_values["contact"],
            contact_mobile=application_values["contact_mobile"],
            contact_email=application_values["contact_email"],
        ),
        office_user,
        conac_user,
    )
    secrets = secrets_of(application_values)
    for holder in (unit, institution):
        values = personal_values(rng)
        Unit.objects.filter(pk=holder.pk).update(**values)
        secrets |= secrets_of(values)

    responses = []
    for domain in Domain.objects.filter(pk__in=[d.pk for d in sites]).select_related("unit"):
        for name in (domain.full_name, domain.full_alabel, domain.full_alabel.upper() + "."):
            responses.append(client.get("/rdap/domain/" + name))
        responses.append(client.get("/whois/", {"name": domain.full_name}))
        responses.append(client.get(f"/rdap/entity/U{domain.unit.public_id.hex.upper()}-CONAC"))
    responses += [
        client.get("/rdap/entity/O110108-CONAC"),
        client.get("/rdap/entity/CONAC"),
        client.get("/rdap/help"),
        client.get("/rdap/domains", {"name": "海淀*"}),
        client.get("/rdap/domains", {"name": "xn--*"}),
        client.get("/rdap/domain/无人注册.政务"),
        client.get("/whois/", {"name": "无人注册.政务"}),
    ]
    # The answers say what they are about: a leak test that reads empty pages would prove nothing.
    joined = "\n".join(r.content.decode("utf-8") for r in responses)
    assert "海淀区测试局" in joined and "海淀区示范图书馆" in joined and "标识证书" in joined
    assert rdap(client, "domain/海淀示范图书馆.公益")[1]["links"][1]["rel"] == "related"
    leaked = sorted(secret for secret in secrets if secret in joined)
    assert not leaked, f"personal data in a public response: {leaked}"
