"""The Django admin for administrators: every model opens; state is read-only; nothing is deleted;
a model a service writes is saved here through that service (its hooks, its audit entry) or
not at all."""

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
    # The same 修改 as the office's: its audit entry, by the administrator.
    entry = AuditEntry.objects.get(object_id=str(unit.pk), action="修改单位信息")
    assert entry.actor.is_superuser and entry.data["changed"]["level"] == ["county", "province"]


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


# --- Saves go through the services, or nowhere -----------------------------------------------


def _form_data(form):
    """The form's current values, as the browser posts them back."""
    from django import forms

    data = {}
    for name, field in form.fields.items():
        if field.disabled:
            continue
        bound = form[name]
        widget = getattr(field.widget, "widget", field.widget)  # the admin's related-field wrapper
        value = bound.value()
        if isinstance(widget, forms.MultiWidget):
            parts = value if isinstance(value, list | tuple) else widget.decompress(value)
            for suffix, sub, part in zip(widget.widgets_names, widget.widgets, parts, strict=True):
                data[bound.html_name + suffix] = sub.format_value(part) or ""
        elif isinstance(field, forms.ModelMultipleChoiceField | forms.MultipleChoiceField):
            data[bound.html_name] = [str(v) for v in value or []]
        elif isinstance(field, forms.BooleanField):
            if value:
                data[bound.html_name] = "on"
        elif value is None:
            data[bound.html_name] = ""
        else:
            data[bound.html_name] = str(value) if isinstance(value, int) else widget.format_value(value) or ""
    return data


def _change_form(client, obj):
    response = client.get(_admin_url(type(obj), "change", obj.pk))
    assert response.status_code == 200, type(obj)
    return response


OUR_APPS = {"conac", "registry", "billing", "review", "badges"}


def _service_saved():
    from registry.models import Unit, User

    # Saved through the service that owns them (see the tests below for each).
    return {Unit: "registry.organisations.services.update_unit", User: "reset_unit_password / audit"}


def _kept_in_the_admin():
    from billing.models import FeeSchedule
    from conac.models import WorkdayException
    from registry.models import ReservedName
    from review.models import CommonReason

    # Reference data that only the administrator keeps: no service writes it, nothing hangs off
    # a change (a charge keeps its price, a decision its text, a queue reads the calendar anew).
    return {
        FeeSchedule: "收费标准",
        ReservedName: "保留名称",
        WorkdayException: "工作日调整",
        CommonReason: "常用不通过原因",
        Office: "编办名称（编码、地区、上级只读）",
    }


@pytest.fixture
def one_of_everything(unit, unit_user, office_user, conac_user):
    """At least one row of every model the admin shows, made through the services."""
    import datetime

    from billing import services as billing
    from billing.models import Charge, FeeSchedule
    from conac.models import WorkdayException
    from registry.dns import services as dns_services
    from registry.domains import services as domain_services
    from registry.models import DnsRecord, ReservedName, ZoneState
    from review import services as review
    from review.models import CommonReason
    from tests import factories

    FeeSchedule.objects.create(suffix=".政务", price_per_year="200.00", valid_from=datetime.date(2020, 1, 1))
    ReservedName.objects.create(label="保留测试", suffix=".政务")
    WorkdayException.objects.create(date=datetime.date(2030, 1, 2), is_workday=False, note="测试")
    CommonReason.objects.create(text="名称与单位不符")
    domains = []
    for label in ("后台甲", "后台乙"):
        domain = domain_services.submit_domain_application(unit, label=label, suffix=".政务", years=1, actor=unit_user)
        review.approve(domain, actor=office_user)
        review.approve(domain, actor=conac_user)
        domains.append(domain)
    charges = list(Charge.objects.filter(domain__in=domains))
    billing.mark_fees_paid(
        unit, charge_ids=[c.pk for c in charges], invoice_no="FP-ADMIN", amount=sum(c.amount for c in charges),
        actor=office_user,
    )  # fmt: skip
    remittance = billing.register_remittance(
        office_user.office, amount="200.00", remitted_on=datetime.date(2025, 1, 2), voucher_no="HK-ADMIN",
        actor=office_user,
    )  # fmt: skip
    billing.confirm_remittance(remittance, actor=conac_user)
    domain_services.delete_domain(domains[1], reason="测试", actor=office_user)
    billing.record_refund(
        Charge.objects.get(domain=domains[1]), refunded_on=datetime.date.today(), voucher_no="TF-ADMIN",
        amount="200.00", actor=office_user,
    )  # fmt: skip
    active = factories.make_domain(unit, "后台解析", status="active", expires_on=datetime.date(2030, 1, 1))
    DnsRecord.objects.create(domain=active, host="www", rtype="A", value="202.96.0.1", ttl=600)
    dns_services.request_add(active, actor=unit_user, host="@", rtype="A", value="202.96.0.2")
    ZoneState.objects.get_or_create(zone="xn--zfr164b")


def test_every_admin_change_form_saves_through_its_service_or_is_read_only(admin_client, one_of_everything):
    registered = {m: a for m, a in admin.site._registry.items() if m._meta.app_label in OUR_APPS}
    service_saved, kept = _service_saved(), _kept_in_the_admin()
    request = admin_client.get("/admin/").wsgi_request
    read_only = {m for m, a in registered.items() if not a.has_change_permission(request)}
    # Each registered model of ours is decided: saved through its service, kept here, or read-only.
    assert set(registered) == set(service_saved) | set(kept) | read_only
    assert not (read_only & (set(service_saved) | set(kept)))
    # Whatever has a workflow state (domains, charges, applications, badges, …) changes only
    # through its service: read-only here, now and for any model registered later.
    stateful = {m for m in registered if any(f.name == "status" for f in m._meta.get_fields())}
    assert stateful <= read_only, stateful - read_only

    for model in sorted(registered, key=lambda m: m._meta.label):
        obj = model._default_manager.order_by("pk").first()
        assert obj is not None, f"no {model._meta.label} to walk: extend one_of_everything"
        response = _change_form(admin_client, obj)
        form = response.context["adminform"].form
        data = _form_data(form)
        if model in read_only:
            assert not response.context["has_change_permission"], model
            assert admin_client.post(_admin_url(model, "change", obj.pk), data).status_code == 403, model
            assert admin_client.get(_admin_url(model, "add")).status_code == 403, model
            assert admin_client.post(_admin_url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403, model
            continue
        before = AuditEntry.objects.count()
        response = admin_client.post(_admin_url(model, "change", obj.pk), data)
        errors = response.context["adminform"].form.errors if response.status_code == 200 else None
        assert response.status_code == 302, (model, errors)
        if model in service_saved:
            assert AuditEntry.objects.count() > before, f"{model._meta.label}: saved without its audit entry"


def test_badges_has_no_admin_that_could_bypass_its_services():
    # 网站开办审核/标识 state moves only through badges.services; if an admin for them appears,
    # the walk above holds it to read-only (it has a status).
    from django.apps import apps

    for model in apps.get_app_config("badges").get_models():
        model_admin = admin.site._registry.get(model)
        if model_admin is not None and any(f.name == "status" for f in model._meta.get_fields()):
            assert not model_admin.has_change_permission(None), model


def test_a_unit_moved_in_the_admin_takes_its_domains_under_review_and_unpaid_charges(
    admin_client, unit, unit_user, office_user, conac_user
):
    from billing import services as billing
    from billing.models import C, Charge
    from registry.domains import services as domain_services
    from registry.models import Domain
    from review import services as review

    def approved(label):
        domain = domain_services.submit_domain_application(unit, label=label, suffix=".政务", years=1, actor=unit_user)
        review.approve(domain, actor=office_user)
        review.approve(domain, actor=conac_user)
        return Charge.objects.get(domain=domain)

    paid_charge = approved("搬家已收")
    billing.mark_fees_paid(
        unit, charge_ids=[paid_charge.pk], invoice_no="FP-MOVE", amount=paid_charge.amount, actor=office_user
    )
    unpaid_charge = approved("搬家待缴")
    waiting = domain_services.submit_domain_application(
        unit, label="搬家待审", suffix=".政务", years=1, actor=unit_user
    )
    assert Charge.objects.get(pk=paid_charge.pk).status == C.MARKED and unpaid_charge.status == C.PENDING

    data = _form_data(_change_form(admin_client, unit).context["adminform"].form)
    data.update({"level": "province", "region": Region.objects.get(code="110000").pk})
    response = admin_client.post(_admin_url(Unit, "change", unit.pk), data)

    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    beijing = Office.objects.get(code="110000")
    assert Unit.objects.get(pk=unit.pk).office == beijing
    # Reviews now go to the new office, and the unpaid fee is collected there...
    assert Domain.objects.get(pk=waiting.pk).office == beijing
    assert Charge.objects.get(pk=unpaid_charge.pk).office == beijing
    # ...while money already collected stays in the books of the office that collected it.
    assert Charge.objects.get(pk=paid_charge.pk).office == office_user.office
    assert AuditEntry.objects.filter(object_id=str(unpaid_charge.pk), action="单位变更同级编办").exists()
    assert AuditEntry.objects.filter(object_id=str(unit.pk), action="修改单位信息").count() == 1
    assert not AuditEntry.objects.filter(action="系统管理修改单位信息").exists()


def test_a_unit_accounts_unit_role_office_and_email_are_read_only(admin_client, unit_user, office_user):
    form = _change_form(admin_client, unit_user).context["adminform"].form
    assert {"role", "unit", "office", "email"}.isdisjoint(form.fields)
    data = _form_data(form)
    data.update({"first_name": "张", "email": "evil@example.com", "role": "office", "office": office_user.office_id})

    response = admin_client.post(_admin_url(User, "change", unit_user.pk), data)

    assert response.status_code == 302
    account = User.objects.get(pk=unit_user.pk)
    assert (account.first_name, account.role, account.office_id, account.unit_id) == (
        "张",
        "unit",
        None,
        unit_user.unit_id,
    )
    assert account.email == unit_user.unit.contact_email  # follows 联系人邮箱, changed by 修改 only
    assert AuditEntry.objects.filter(object_id=str(unit_user.pk), action="系统管理修改账号").exists()


def test_a_staff_account_never_becomes_a_units_account(admin_client, office_user, unit):
    form = _change_form(admin_client, office_user).context["adminform"].form
    assert "unit" not in form.fields
    assert "unit" not in [value for value, _ in form.fields["role"].choices]
    data = _form_data(form)
    data.update({"role": "unit", "unit": unit.pk})
    response = admin_client.post(_admin_url(User, "change", office_user.pk), data)
    assert response.status_code == 200
    assert User.objects.get(pk=office_user.pk).role == "office" and User.objects.get(pk=office_user.pk).unit is None
    add_form = admin_client.get(_admin_url(User, "add")).context["adminform"].form
    assert "unit" not in add_form.fields and "unit" not in [v for v, _ in add_form.fields["role"].choices]


def test_a_units_password_set_in_the_admin_is_a_reset_with_its_audit_and_notice(admin_client, unit_user):
    url = reverse("admin:auth_user_password_change", args=[unit_user.pk])
    response = admin_client.post(url, {"password1": "Newpass123", "password2": "Newpass123", "usable_password": "true"})

    assert response.status_code == 302
    assert User.objects.get(pk=unit_user.pk).check_password("Newpass123")
    entry = AuditEntry.objects.get(object_id=str(unit_user.unit_id), action="重置密码")
    assert entry.actor.is_superuser
    assert Notice.objects.filter(template="password_reset").exists()  # the unit is told, as when its office resets it


def test_a_staff_password_set_in_the_admin_leaves_an_audit_entry(admin_client, office_user):
    url = reverse("admin:auth_user_password_change", args=[office_user.pk])
    response = admin_client.post(url, {"password1": "Staff54321", "password2": "Staff54321", "usable_password": "true"})
    assert response.status_code == 302
    assert User.objects.get(pk=office_user.pk).check_password("Staff54321")
    entry = AuditEntry.objects.get(object_id=str(office_user.pk), action="系统管理设置密码")
    assert entry.actor.is_superuser


def test_regions_are_read_only_and_offices_are_not_added(admin_client):
    region = Region.objects.get(code="110108")
    response = _change_form(admin_client, region)
    assert not response.context["has_change_permission"]
    assert admin_client.post(_admin_url(Region, "change", region.pk), {"name": "改名"}).status_code == 403
    assert Region.objects.get(pk=region.pk).name == "海淀区"
    assert admin_client.get(_admin_url(Region, "add")).status_code == 403
    assert admin_client.get(_admin_url(Office, "add")).status_code == 403
