"""续费 of every domain a 域名查询 matches, not only the ticked rows of one page."""

import datetime

from billing.models import Charge, ChargeKind
from tests.factories import make_domain


def _active(unit, label, expires_on):
    return make_domain(
        unit, label, status="active", registered_on=expires_on - datetime.timedelta(days=365), expires_on=expires_on
    )


def test_select_all_matching_renews_every_result_of_the_query(client_for, unit, shanghai_unit, office_user):
    soon = datetime.date.today() + datetime.timedelta(days=20)
    later = datetime.date.today() + datetime.timedelta(days=400)
    due = [_active(unit, f"到期测试{i}", soon) for i in range(25)]  # more than one page of 20
    not_due = _active(unit, "晚到期测试", later)
    other_office = _active(shanghai_unit, "上海到期测试", soon)
    client = client_for(office_user)
    query = f"expires_to={(soon + datetime.timedelta(days=1)).isoformat()}"

    page = client.get(f"/domains/search/?{query}").content.decode()
    assert "续费时选择全部 25 个查询结果" in page

    response = client.post("/billing/renew/", {"select_all": "1", "query": query})
    assert response.status_code == 200
    assert "25" in response.content.decode()

    ids = ",".join(str(d.public_id) for d in due)
    response = client.post("/billing/renew/", {"ids": ids, "years": "2"})
    assert response.status_code == 302
    renewed = set(Charge.objects.filter(kind=ChargeKind.RENEWAL).values_list("domain_id", flat=True))
    assert renewed == {d.pk for d in due}
    assert not_due.pk not in renewed and other_office.pk not in renewed


def test_select_all_with_a_query_of_another_office_renews_nothing_of_theirs(client_for, shanghai_unit, office_user):
    soon = datetime.date.today() + datetime.timedelta(days=20)
    _active(shanghai_unit, "上海另一到期", soon)
    response = client_for(office_user).post("/billing/renew/", {"select_all": "1", "query": "domain=上海"})
    assert response.status_code == 302  # nothing of its own matched: back with a message
    assert not Charge.objects.filter(kind=ChargeKind.RENEWAL).exists()
