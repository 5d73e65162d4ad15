"""Post/Redirect/Get after a refused form, everywhere (conac/forms_state.py).

A refused POST answers with a redirect to a GET page carrying a one-time key: a reload of
what the user sees re-sends nothing. That page shows the form as typed with each error at its
field; the key works once; passwords are never kept in the session.
"""

import datetime
import json

import pytest
from django.contrib.sessions.models import Session
from django.urls import reverse

from conac import forms_state
from tests import factories
from tests.badges.helpers import awaiting_paper, live_domain, submit
from tests.billing.test_pages import charge_for
from tests.billing.test_refunds import owed_back
from tests.registry.test_registration import registration_post


def _remittance(u):
    return {"amount": "0", "remitted_on": "2025-09-29", "voucher_no": "HK-PRG", "note": "备注PRG"}


# name → (persona, POST URL, data, what the page then says, what was typed and is kept on it).
# Each is built from the scene (a callable) so the URLs can name its objects.
CASES = {
    "登录": (
        "anonymous",
        lambda s: "/login/",
        lambda s: {"username": "alice", "password": "Wrong12345"},
        "都区分大小写",
        "alice",
    ),
    "新用户注册": (
        "anonymous",
        lambda s: reverse("registry:register"),
        lambda s: registration_post(name="", address="海淀区PRG路1号"),
        "请填写单位名称",
        "海淀区PRG路1号",
    ),
    "修改密码": (
        "unit",
        lambda s: reverse("registry:change-password"),
        lambda s: {"old_password": "Wrong12345", "new_password": "NewPass2025", "new_password_confirm": "NewPass2025"},
        "原密码不正确。",
        None,
    ),
    "域名申请": (
        "unit",
        lambda s: reverse("registry:domain-apply"),
        lambda s: {"label": "海淀PRG测试", "suffix": ".政务", "years": "11"},
        "注册年限须为1至10年",
        "海淀PRG测试",
    ),
    "域名解析": (
        "unit",
        lambda s: reverse("registry:dns-records", args=[s["live"].public_id]),
        lambda s: {"host": "www", "rtype": "A", "value": "202.96.0.1", "ttl": "30"},
        "TTL须在600至86400秒之间",
        "202.96.0.1",
    ),
    "网站开办审核/资质复核申请": (
        "unit",
        lambda s: reverse("badges:application-new", args=["website"]),
        lambda s: {"kind": "opening", "site_name": "", "domain": str(s["live"].public_id)},
        "请填写网站名称。",
        None,
    ),
    "重置密码": (
        "office",
        lambda s: reverse("registry:unit-detail", args=[s["unit"].public_id]),
        lambda s: {"action": "reset", "new_password": "short1"},
        "8-16位半角英文和数字混合",
        None,
    ),
    "确认收费": (
        "office",
        lambda s: f"/billing/units/{s['unit'].public_id}/fees/",
        lambda s: {"charges": [str(s["charge"].public_id)], "invoice_no": "FP-PRG", "amount": "1", "confirmed": "1"},
        "与应收金额（200.00 元）不符",
        "FP-PRG",
    ),
    "消费变更": (
        "office",
        lambda s: reverse("billing:charge-change", args=[s["charge"].public_id]),
        lambda s: {"years": "11"},
        "注册年限须为1至10年",
        None,
    ),
    "登记汇款": ("office", lambda s: reverse("billing:remittance-list"), _remittance, "汇款金额须大于0。", "备注PRG"),
    "续费": (
        "office",
        lambda s: reverse("billing:renew"),
        lambda s: {"ids": str(s["live"].public_id), "years": "11"},
        "续费年限须为1至10年。",
        None,
    ),
    "退费": (
        "office",
        lambda s: reverse("billing:charge-refund", args=[s["owed"].public_id]),
        lambda s: {"refunded_on": "2025-10-20", "voucher_no": "", "amount": "200.00", "confirmed": "1"},
        "请填写退费凭证号",
        None,
    ),
    "待审核域名": (
        "office",
        lambda s: reverse("registry:domain-review-decide"),
        lambda s: {"ids": [str(s["pending"].public_id)], "action": "reject", "opinion": ""},
        "审核不通过时必须填写审核意见",
        None,
    ),
    "网站开办及标识申请审核": (
        "office",
        lambda s: reverse("badges:review-decide"),
        lambda s: {"ids": [str(s["application"].public_id)], "action": "reject", "opinion": " "},
        "审核不通过时必须填写审核意见",
        None,
    ),
    "资料不符": (
        "office",
        lambda s: reverse("badges:paper-decide", args=[s["paper"].public_id]),
        lambda s: {"action": "mismatch", "reason": ""},
        "资料不符时必须填写原因",
        None,
    ),
    "解析审核": (
        "conac",
        lambda s: reverse("registry:dns-review-decide"),
        lambda s: {"action": "approve"},
        "请先勾选要审核的解析申请。",
        None,
    ),
    "撤销": (
        "conac",
        lambda s: reverse("badges:badge-revoke", args=[s["badge"].code]),
        lambda s: {"reason": "  ", "confirmed": "1"},
        "请填写撤销原因",
        None,
    ),
}


@pytest.fixture
def scene(unit, unit_user, office_user, conac_user):
    from badges import services as badge_services

    owed = owed_back(unit, office_user, conac_user, label="海淀PRG退费")  # marks every charge so far: first
    live = live_domain(unit, "海淀PRG在用")
    paper = awaiting_paper(live_domain(unit, "海淀PRG资料"), office_user, conac_user)
    return {
        "unit": unit,
        "live": live,
        "charge": charge_for(unit, "海淀PRG收费"),
        "owed": owed,
        "pending": factories.make_domain(unit, "海淀PRG待审"),
        "application": submit(live),
        "paper": paper,
        "badge": badge_services.confirm_paper(
            awaiting_paper(live_domain(unit, "海淀PRG标识"), office_user, conac_user), actor=office_user
        ),
        "users": {"unit": unit_user, "office": office_user, "conac": conac_user},
    }


def _client(scene, persona, client, client_for):
    return client if persona == "anonymous" else client_for(scene["users"][persona])


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_refused_post_redirects_to_a_get_that_shows_the_form_once(name, scene, client, client_for):
    persona, url_of, data_of, said, typed = CASES[name]
    browser = _client(scene, persona, client, client_for)
    url, data = url_of(scene), data_of(scene)

    response = browser.post(url, data)

    # Not the POST's answer: a redirect to a GET page with the kept state's one-time key.
    assert response.status_code == 302, (name, response.status_code)
    location = response["Location"]
    assert f"{forms_state.QUERY_PARAM}=" in location
    shown = browser.get(location)
    assert shown.status_code == 200
    page = shown.content.decode()
    assert said in page, (name, said)
    if typed:
        assert typed in page  # what was typed is there to correct
    # Reloading shows the page again without the refused state: the key works once.
    again = browser.get(location).content.decode()
    assert said not in again or name in ("待审核域名", "网站开办及标识申请审核", "解析审核")  # labels on the queue


def test_passwords_never_reach_the_session(client, db):
    data = registration_post(name="", password="Secret2025x", password_confirm="Secret2025x")
    response = client.post(reverse("registry:register"), data)
    assert response.status_code == 302
    stored = json.dumps([Session.objects.get(pk=s.pk).get_decoded() for s in Session.objects.all()], ensure_ascii=False)
    assert "Secret2025x" not in stored and "newunit" in stored  # the rest is kept

    response = client.post("/login/", {"username": "alice", "password": "Wrong98765"})
    stored = json.dumps([s.get_decoded() for s in Session.objects.all()], ensure_ascii=False)
    assert "Wrong98765" not in stored


def test_a_key_of_another_form_or_session_shows_nothing(client_for, unit_user, office_user):
    mine = client_for(unit_user)
    response = mine.post(reverse("registry:domain-apply"), {"label": "海淀PRG别处", "suffix": ".政务", "years": "11"})
    key = response["Location"].split(f"{forms_state.QUERY_PARAM}=")[1]
    # The same key on another form's page, or in another session, restores nothing.
    assert "注册年限须为1至10年" not in mine.get(f"{reverse('registry:change-password')}?form={key}").content.decode()
    other = client_for(factories.unit_user(factories.make_unit(username="prg_other", name="海淀区别的单位")))
    assert "海淀PRG别处" not in other.get(f"{reverse('registry:domain-apply')}?form={key}").content.decode()


def test_kept_states_are_bounded(client_for, unit_user):
    browser = client_for(unit_user)
    for i in range(forms_state.MAX_KEPT + 5):
        browser.post(reverse("registry:domain-apply"), {"label": f"海淀PRG{i}", "suffix": ".政务", "years": "11"})
    assert len(browser.session[forms_state.SESSION_KEY]) == forms_state.MAX_KEPT


def test_the_queue_keeps_the_ticks_after_a_refusal(client_for, office_user, unit):
    domain = factories.make_domain(unit, "海淀PRG勾选")
    browser = client_for(office_user)
    response = browser.post(
        reverse("registry:domain-review-decide"), {"ids": [str(domain.public_id)], "action": "reject"}, follow=True
    )
    page = response.content.decode()
    assert response.redirect_chain[0][0].startswith(reverse("registry:domain-office-queue") + "?form=")
    assert f'value="{domain.public_id}" checked' in page and "审核不通过时必须填写审核意见" in page
    assert datetime.date.today()  # the domain is still waiting
    domain.refresh_from_db()
    assert domain.status == "pending_local"
