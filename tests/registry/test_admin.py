"""The Django admin for administrators: every model opens; state is read-only; nothing is deleted."""

import pytest
from django.contrib import admin
from django.urls import reverse

from conac.audit import record
from conac.models import AuditEntry, Notice
from registry.models import Office, Region, Unit, User


@pytest.fixture
def admin_client_with_data(admin_client, unit, office_user):
    record(unit, "测试操作", actor=office_user)
    return admin_client


def _admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_registered_model_has_a_working_changelist(admin_client_with_data):
    models = list(admin.site._registry)
    assert {Region, Office, Unit, User, AuditEntry, Notice} <= set(models)
    for model in models:
        response = admin_client_with_data.get(_admin_url(model, "changelist"))
        assert response.status_code == 200, model
        # and its search box answers too, where it has one
        if admin.site._registry[model].search_fields:
            assert admin_client_with_data.get(_admin_url(model, "changelist"), {"q": "测试"}).status_code == 200, model


def test_admin_index_lists_the_models_in_chinese(admin_client):
    body = admin_client.get("/admin/").content.decode()
    for label in ["申报单位", "编办", "行政区划", "用户", "操作记录", "通知"]:
        assert label in body


def test_unit_change_page_opens_with_office_read_only(admin_client, unit):
    response = admin_client.get(_admin_url(Unit, "change", unit.pk))
    body = response.content.decode()
    assert response.status_code == 200
    assert unit.name in body and "北京市海淀区委编办" in body
    form = response.context["adminform"].form
    assert "office" not in form.fields  # shown, but not a field anyone can post
    assert "name" in form.fields


def test_unit_office_cannot_be_posted_and_follows_level_and_region(admin_client, unit):
    response = admin_client.get(_admin_url(Unit, "change", unit.pk))
    form = response.context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {k: ("" if v is None else v) for k, v in data.items()}
    shanghai = Office.objects.get(code="310000")
    data.update({"office": shanghai.pk, "level": "province", "region": Region.objects.get(code="110000").pk})
    response = admin_client.post(_admin_url(Unit, "change", unit.pk), data)
    assert response.status_code == 302, getattr(response, "context", None) and response.context["adminform"].form.errors
    unit.refresh_from_db()
    assert unit.level == "province"
    # The posted office is ignored: the office is derived from level + region.
    assert unit.office.name == "北京市委编办"
    assert AuditEntry.objects.filter(object_id=str(unit.pk), action="系统管理修改单位信息").exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("credit_code", "91350100M000100Y44", "校验位不正确"),
        ("handler_id_number", "110105194912310021", "校验位不正确"),
        ("contact_mobile", "010-12345678", "不接受固定电话"),
        ("level", "prefecture", "所在地区须选择到地市级行政区划"),
    ],
)
def test_unit_change_in_the_admin_keeps_the_field_rules(admin_client, unit, field, value, message):
    form = admin_client.get(_admin_url(Unit, "change", unit.pk)).context["adminform"].form
    data = {name: ("" if form[name].value() is None else form[name].value()) for name in form.fields}
    data[field] = value
    response = admin_client.post(_admin_url(Unit, "change", unit.pk), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    error_field = "region" if field == "level" else field
    assert any(message in e for e in errors[error_field]), errors
    assert Unit.objects.get(pk=unit.pk).__dict__[field] == getattr(unit, field)


def test_units_are_not_added_in_the_admin(admin_client):
    assert admin_client.get(_admin_url(Unit, "add")).status_code == 403


def test_units_cannot_be_deleted(admin_client, unit):
    assert admin_client.get(_admin_url(Unit, "delete", unit.pk)).status_code == 403
    assert admin_client.post(_admin_url(Unit, "delete", unit.pk), {"post": "yes"}).status_code == 403
    changelist = admin_client.get(_admin_url(Unit, "changelist"))
    assert "delete_selected" not in changelist.content.decode()
    assert Unit.objects.filter(pk=unit.pk).exists()


def test_unit_changelist_filters_by_office_kind_and_region(admin_client, unit, shanghai_unit):
    url = _admin_url(Unit, "changelist")
    titles = [spec.title for spec in admin_client.get(url).context["cl"].filter_specs]
    assert {"单位类型", "同级编办", "所在地区"} <= set(titles)
    by_office = admin_client.get(url, {"office__id__exact": shanghai_unit.office_id})
    assert list(by_office.context["cl"].result_list) == [shanghai_unit]
    by_kind = admin_client.get(url, {"kind__exact": "organ"})
    assert set(by_kind.context["cl"].result_list) == {unit, shanghai_unit}
    by_region = admin_client.get(url, {"region__id__exact": unit.region_id})
    assert list(by_region.context["cl"].result_list) == [unit]
    by_search = admin_client.get(url, {"q": unit.credit_code})
    assert list(by_search.context["cl"].result_list) == [unit]


def test_user_changelist_filters_by_role(admin_client, unit_user, office_user, conac_user):
    response = admin_client.get(_admin_url(User, "changelist"), {"role__exact": "office"})
    assert list(response.context["cl"].result_list) == [office_user]


def test_user_change_page_opens(admin_client, unit_user, office_user):
    for user in (unit_user, office_user):
        response = admin_client.get(_admin_url(User, "change", user.pk))
        assert response.status_code == 200
        assert user.username in response.content.decode()


def test_staff_account_is_created_in_the_admin_with_the_password_rule(admin_client):
    office = Office.objects.get(code="110108")
    url = _admin_url(User, "add")
    assert admin_client.get(url).status_code == 200
    weak = admin_client.post(
        url, {"username": "newstaff", "password1": "abc", "password2": "abc", "role": "office", "office": office.pk}
    )
    assert weak.status_code == 200 and "8-16位半角英文和数字混合" in weak.content.decode()
    assert not User.objects.filter(username="newstaff").exists()
    response = admin_client.post(
        url,
        {
            "username": "newstaff",
            "password1": "Staff12345",
            "password2": "Staff12345",
            "role": "office",
            "office": office.pk,
        },
    )
    assert response.status_code == 302
    staff = User.objects.get(username="newstaff")
    assert staff.role == "office" and staff.office == office and staff.check_password("Staff12345")


def test_office_staff_without_an_office_is_refused_at_the_field(admin_client):
    response = admin_client.post(
        _admin_url(User, "add"),
        {"username": "nooffice", "password1": "Staff12345", "password2": "Staff12345", "role": "office", "office": ""},
    )
    assert response.status_code == 200
    assert "office" in response.context["adminform"].form.errors
    assert not User.objects.filter(username="nooffice").exists()


def test_audit_and_notices_are_read_only(admin_client_with_data):
    entry = AuditEntry.objects.first()
    response = admin_client_with_data.get(_admin_url(AuditEntry, "change", entry.pk))
    assert response.status_code == 200
    assert not response.context["has_change_permission"]
    assert admin_client_with_data.get(_admin_url(AuditEntry, "add")).status_code == 403
    assert admin_client_with_data.post(_admin_url(AuditEntry, "delete", entry.pk), {"post": "yes"}).status_code == 403
    notice = Notice.objects.first()
    assert admin_client_with_data.post(_admin_url(Notice, "change", notice.pk), {"status": "sent"}).status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_regions_and_offices_keep_their_codes(admin_client):
    office = Office.objects.get(code="110108")
    response = admin_client.get(_admin_url(Office, "change", office.pk))
    form = response.context["adminform"].form
    assert {"code", "region", "parent", "scope_prefix"}.isdisjoint(form.fields)
    assert admin_client.post(_admin_url(Office, "delete", office.pk), {"post": "yes"}).status_code == 403


def test_non_staff_cannot_use_the_admin(client_for, office_user, conac_user):
    for user in (office_user, conac_user):
        response = client_for(user).get(_admin_url(Unit, "changelist"))
        assert response.status_code == 302 and "/admin/login/" in response.url
