"""用户管理——申报单位管理/缴费: the office's units, 详细信息, 修改 and 重置密码, and who may not."""

import pytest
from django.test import Client

from conac.models import AuditEntry, Notice
from registry.models import Unit, User
from tests import factories

LIST_URL = "/units/"
INCOMPLETE = "必须将所有带*号的信息完善后才能修改成功"


def detail_url(unit):
    return f"/units/{unit.public_id}/"


def can_log_in(username, password):
    """Sign in through the login page, as a person would (django-axes needs the request)."""
    client = Client()
    response = client.post("/login/", {"username": username, "password": password})
    return response.status_code == 302 and "_auth_user_id" in client.session


def update_post(unit, **overrides):
    """What the 详细信息 form posts for 修改, the unit's current values unless overridden."""
    region = unit.region
    path = []
    while region is not None:
        path.insert(0, region.code)
        region = region.parent
    data = {
        "action": "update",
        "name": unit.name,
        "kind": unit.kind,
        "credit_code": unit.credit_code,
        "level": unit.level,
        "address": unit.address,
        "leader": unit.leader,
        "contact": unit.contact,
        "contact_mobile": unit.contact_mobile_display,
        "contact_email": unit.contact_email,
        "office_phone": unit.office_phone,
        "handler": unit.handler,
        "handler_id_number": unit.handler_id_number,
        "new_password": "",
    }
    for i in range(3):
        data[f"region_{i}"] = path[i] if i < len(path) else ""
    data.update(overrides)
    return data


def _snapshot(unit):
    unit = Unit.objects.get(pk=unit.pk)
    return {f: getattr(unit, f) for f in [*Unit.REQUIRED_FIELDS, "office_id", "office_phone"]}


# --- The list ---------------------------------------------------------------------------


def test_office_sees_its_own_units_only(client_for, office_user, unit, other_unit, shanghai_unit):
    response = client_for(office_user).get(LIST_URL)
    body = response.content.decode()
    assert response.status_code == 200
    assert "用户管理——申报单位管理/缴费" in body
    assert unit.name in body and other_unit.name in body
    assert shanghai_unit.name not in body
    assert "alice" in body  # the unit's 用户名 column


def test_office_list_is_linked_from_the_office_menu(client_for, office_user):
    body = client_for(office_user).get("/").content.decode()
    assert "用户管理" in body and 'href="/units/"' in body and "申报单位管理/缴费" in body


@pytest.mark.parametrize(("query", "expected"), [("测试局", "alice"), ("另一", "bob")])
def test_search_by_name(client_for, office_user, unit, other_unit, query, expected):
    response = client_for(office_user).get(LIST_URL, {"q": query})
    names = [u.account.username for u in response.context["page"]]
    assert names == [expected]


def test_search_by_credit_code_in_any_case(client_for, office_user, unit, other_unit):
    client = client_for(office_user)
    for q in [unit.credit_code, unit.credit_code.lower(), unit.credit_code[-10:]]:
        response = client.get(LIST_URL, {"q": q})
        assert [u.pk for u in response.context["page"]] == [unit.pk], q


def test_search_with_no_match_says_so(client_for, office_user, unit):
    response = client_for(office_user).get(LIST_URL, {"q": "不存在的单位"})
    assert "没有符合条件的单位" in response.content.decode()


def test_kind_filter(client_for, office_user, unit):
    institution = factories.make_unit(username="inst", name="海淀区某事业单位", kind="institution")
    client = client_for(office_user)
    response = client.get(LIST_URL, {"kind": "institution"})
    assert [u.pk for u in response.context["page"]] == [institution.pk]
    response = client.get(LIST_URL, {"kind": "organ"})
    assert [u.pk for u in response.context["page"]] == [unit.pk]
    response = client.get(LIST_URL, {"kind": "nonsense"})  # ignored, not an error
    assert {u.pk for u in response.context["page"]} == {unit.pk, institution.pk}


def test_pagination_and_bounded_query_count(client_for, office_user, django_assert_max_num_queries):
    client = client_for(office_user)
    for i in range(3):
        factories.make_unit(username=f"few{i}", name=f"海淀区少量单位{i}")
    with django_assert_max_num_queries(12) as few:
        client.get(LIST_URL)
    for i in range(22):
        factories.make_unit(username=f"many{i:02d}", name=f"海淀区批量单位{i:02d}")
    with django_assert_max_num_queries(len(few.captured_queries)) as many:
        first = client.get(LIST_URL)
    assert len(many.captured_queries) == len(few.captured_queries)

    body = first.content.decode()
    assert len(first.context["page"].object_list) == 20
    assert "第 1 / 2 页，共 25 条" in body and "下一页" in body
    second = client.get(LIST_URL, {"page": 2})
    assert len(second.context["page"].object_list) == 5
    assert "上一页" in second.content.decode()
    all_names = {u.name for u in first.context["page"]} | {u.name for u in second.context["page"]}
    assert len(all_names) == 25


def test_province_office_lists_lower_units_only_when_asked(client_for, province_office_user, unit):
    client = client_for(province_office_user)
    assert unit.name not in client.get(LIST_URL).content.decode()
    response = client.get(LIST_URL, {"lower": "1"})
    body = response.content.decode()
    assert unit.name in body and "北京市海淀区委编办" in body


# --- 详细信息 -----------------------------------------------------------------------------


def test_detail_panel_over_htmx_is_a_fragment(client_for, office_user, unit):
    response = client_for(office_user).get(detail_url(unit), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert "详细信息" in body and unit.name in body
    assert "<html" not in body
    assert 'value="update"' in body and "修改" in body and 'value="reset"' in body and "重置密码" in body
    assert "新用户注册" in body  # 办理记录 shows the registration


def test_detail_without_htmx_is_a_whole_page(client_for, office_user, unit):
    response = client_for(office_user).get(detail_url(unit))
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" in body and "详细信息" in body and unit.name in body


def test_list_with_a_selected_unit_opens_its_detail(client_for, office_user, unit):
    response = client_for(office_user).get(LIST_URL, {"unit": str(unit.public_id)})
    body = response.content.decode()
    assert 'id="unit-detail"' in body and unit.handler_id_number in body


def test_detail_of_an_unknown_or_malformed_id_is_404(client_for, office_user):
    client = client_for(office_user)
    assert client.get("/units/00000000-0000-0000-0000-000000000000/").status_code == 404
    assert client.get(LIST_URL, {"unit": "not-a-uuid"}).status_code == 404


# --- 修改 ---------------------------------------------------------------------------------


def test_update_changes_the_unit_and_writes_audit(client_for, office_user, unit):
    response = client_for(office_user).post(
        detail_url(unit), update_post(unit, address="北京市海淀区新地址8号", contact_mobile="13912345678"), follow=True
    )
    assert response.status_code == 200
    assert "单位信息已修改" in response.content.decode()
    unit.refresh_from_db()
    assert unit.address == "北京市海淀区新地址8号"
    assert unit.contact_mobile == "+8613912345678"
    entry = AuditEntry.objects.get(object_id=str(unit.pk), action="修改单位信息")
    assert entry.actor == office_user
    assert entry.data["changed"]["address"][1] == "北京市海淀区新地址8号"
    assert "修改单位信息" in response.content.decode()  # the 办理记录 on the page


def test_update_over_htmx_returns_the_panel(client_for, office_user, unit):
    client = client_for(office_user)
    response = client.post(detail_url(unit), update_post(unit, leader="赵新"), HTTP_HX_REQUEST="true")
    assert response.status_code == 302 and response.url == detail_url(unit)
    panel = client.get(response.url, HTTP_HX_REQUEST="true").content.decode()
    assert "单位信息已修改" in panel and 'value="赵新"' in panel
    assert Unit.objects.get(pk=unit.pk).leader == "赵新"


def test_update_contact_email_follows_to_the_account(client_for, office_user, unit):
    client_for(office_user).post(detail_url(unit), update_post(unit, contact_email="new@example.cn"))
    assert User.objects.get(unit=unit).email == "new@example.cn"


def test_changing_level_and_region_rederives_the_office(client_for, office_user, unit):
    client = client_for(office_user)
    response = client.post(detail_url(unit), update_post(unit, level="province", region_0="110000", region_1=""))
    assert response.status_code == 302
    unit.refresh_from_db()
    assert unit.level == "province" and unit.region.code == "110000"
    assert unit.office.name == "北京市委编办"
    # It now belongs to 北京市's office, above 海淀区: out of 海淀区's scope altogether.
    assert client.get(detail_url(unit)).status_code == 404

    central = factories.make_unit(username="tocentral", name="将改为中央单位")
    client.post(detail_url(central), update_post(central, level="central"))
    central.refresh_from_db()
    assert central.office.name == "中央编办"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"credit_code": "91350100M000100Y44"}, "credit_code", "校验位不正确"),
        ({"handler_id_number": "110105194912310021"}, "handler_id_number", "校验位不正确"),
        ({"contact_mobile": "010-12345678"}, "contact_mobile", "不接受固定电话"),
        ({"contact_email": "bad"}, "contact_email", "请输入有效的电子邮箱地址"),
        ({"leader": ""}, "leader", "请填写负责人"),
        ({"region_1": ""}, "region", "所在地区须选择到县级行政区划"),
    ],
)
def test_invalid_update_shows_field_error_and_manual_message_and_changes_nothing(
    client_for, office_user, unit, overrides, field, message
):
    before = _snapshot(unit)
    audits = AuditEntry.objects.count()
    response = client_for(office_user).post(
        detail_url(unit), update_post(unit, address="不应保存的地址", **overrides), HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200
    form = response.context["detail_form"]
    assert any(message in e for e in form.errors[field]), form.errors
    assert message in body and INCOMPLETE in body
    assert _snapshot(unit) == before
    assert AuditEntry.objects.count() == audits


def test_update_with_a_taken_credit_code_is_refused(client_for, office_user, unit, other_unit):
    before = _snapshot(unit)
    response = client_for(office_user).post(
        detail_url(unit), update_post(unit, credit_code=other_unit.credit_code), follow=True
    )
    assert response.redirect_chain[0][0].startswith(f"/units/?unit={unit.public_id}&form=")  # PRG
    assert "该统一社会信用代码已注册" in response.content.decode()
    assert _snapshot(unit) == before


def test_update_with_a_new_password_resets_it_too(client_for, office_user, unit, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(office_user).post(detail_url(unit), update_post(unit, new_password="Changed123"))
    assert response.status_code == 302
    assert can_log_in("alice", "Changed123")
    assert Notice.objects.filter(template="password_reset", status="sent").count() == 2


def test_update_with_a_weak_new_password_changes_nothing(client_for, office_user, unit):
    before = _snapshot(unit)
    response = client_for(office_user).post(
        detail_url(unit), update_post(unit, address="不应保存的地址", new_password="short1"), follow=True
    )
    assert "8-16位半角英文和数字混合" in " ".join(response.context["detail_form"].errors["new_password"])
    assert _snapshot(unit) == before
    assert can_log_in("alice", factories.PASSWORD)


# --- 重置密码 -------------------------------------------------------------------------------


def test_reset_password_lets_the_unit_log_in_with_it(
    client_for, office_user, unit, sms_outbox, django_capture_on_commit_callbacks
):
    from django.core import mail

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(office_user).post(
            detail_url(unit), {"action": "reset", "new_password": "NewPass2025", "confirmed": "1"}, follow=True
        )
    assert "密码已重置，已通知该单位联系人" in response.content.decode()
    assert can_log_in("alice", "NewPass2025")
    assert not can_log_in("alice", factories.PASSWORD)

    entry = AuditEntry.objects.get(object_id=str(unit.pk), action="重置密码")
    assert entry.actor == office_user
    notices = Notice.objects.filter(template="password_reset")
    assert {n.channel for n in notices} == {"sms", "email"}
    assert all(n.status == "sent" for n in notices)
    assert [m["to"] for m in sms_outbox] == [unit.contact_mobile]
    assert "NewPass2025" not in sms_outbox[0]["body"]  # never send the password itself
    assert mail.outbox[-1].to == [unit.contact_email]


def test_two_resets_notify_twice(client_for, office_user, unit):
    client = client_for(office_user)
    client.post(detail_url(unit), {"action": "reset", "new_password": "NewPass2025", "confirmed": "1"})
    client.post(detail_url(unit), {"action": "reset", "new_password": "NewPass2026", "confirmed": "1"})
    assert Notice.objects.filter(template="password_reset", channel="sms").count() == 2
    assert can_log_in("alice", "NewPass2026")


@pytest.mark.parametrize("password", ["", "short1", "onlyletters", "1234567890", "Abcd1234!", "Ａｂｃｄ１２３４５"])
def test_bad_new_password_is_refused_and_nothing_changes(client_for, office_user, unit, password):
    response = client_for(office_user).post(
        detail_url(unit), {"action": "reset", "new_password": password}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    errors = response.context["reset_form"].errors["new_password"]
    assert errors and ("8-16位半角英文和数字混合" in errors[0] or "请填写新密码" in errors[0])
    assert errors[0] in response.content.decode()
    assert can_log_in("alice", factories.PASSWORD)
    assert not AuditEntry.objects.filter(object_id=str(unit.pk), action="重置密码").exists()
    assert not Notice.objects.filter(template="password_reset").exists()


def test_unit_with_an_incomplete_field_cannot_get_its_password_reset(client_for, office_user, unit):
    Unit.objects.filter(pk=unit.pk).update(handler="")
    response = client_for(office_user).post(
        detail_url(unit), {"action": "reset", "new_password": "NewPass2025", "confirmed": "1"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert INCOMPLETE in response.content.decode()
    assert can_log_in("alice", factories.PASSWORD)
    assert not can_log_in("alice", "NewPass2025")
    assert not Notice.objects.filter(template="password_reset").exists()


# --- Outsiders ----------------------------------------------------------------------------


def test_other_office_gets_404_for_detail_and_post(client_for, other_office_user, unit):
    client = client_for(other_office_user)
    before = _snapshot(unit)
    assert client.get(detail_url(unit)).status_code == 404
    assert client.get(detail_url(unit), HTTP_HX_REQUEST="true").status_code == 404
    assert client.get(LIST_URL, {"unit": str(unit.public_id)}).status_code == 404
    assert client.post(detail_url(unit), update_post(unit, address="越权修改")).status_code == 404
    assert client.post(detail_url(unit), {"action": "reset", "new_password": "Hijack12345"}).status_code == 404
    assert _snapshot(unit) == before
    assert can_log_in("alice", factories.PASSWORD)
    assert unit.name not in client.get(LIST_URL, {"lower": "1"}).content.decode()


def test_province_office_sees_lower_unit_read_only(client_for, province_office_user, unit):
    client = client_for(province_office_user)
    response = client.get(detail_url(unit))
    body = response.content.decode()
    assert response.status_code == 200
    assert unit.name in body and "本级编办仅可查看" in body
    assert (
        'value="update"' not in body
        and 'value="reset"' not in body
        and '<form method="post" action="/units/' not in body
    )
    before = _snapshot(unit)
    assert client.post(detail_url(unit), update_post(unit, address="越级修改")).status_code == 404
    assert client.post(detail_url(unit), {"action": "reset", "new_password": "Hijack12345"}).status_code == 404
    assert _snapshot(unit) == before
    assert can_log_in("alice", factories.PASSWORD)


@pytest.mark.parametrize("persona", ["unit_user", "conac_user"])
def test_units_and_conac_are_refused(client_for, request, unit, persona):
    client = client_for(request.getfixturevalue(persona))
    assert client.get(LIST_URL).status_code == 403
    assert client.get(detail_url(unit)).status_code == 403
    assert client.post(detail_url(unit), {"action": "reset", "new_password": "Hijack12345"}).status_code == 403
    assert can_log_in("alice", factories.PASSWORD)


def test_anonymous_is_sent_to_login(client, unit):
    response = client.get(LIST_URL)
    assert response.status_code == 302 and response.url == "/login/?next=/units/"
    response = client.post(detail_url(unit), {"action": "reset", "new_password": "Hijack12345"})
    assert response.status_code == 302 and response.url.startswith("/login/")
    assert can_log_in("alice", factories.PASSWORD)


def test_the_detail_panel_lists_the_units_domains(client_for, office_user, unit):
    from tests.factories import make_domain

    make_domain(unit, "详细信息域名", status="active")
    body = client_for(office_user).get(detail_url(unit), HTTP_HX_REQUEST="true").content.decode()
    assert "该单位的域名" in body and "详细信息域名.政务" in body and "注册成功" in body
