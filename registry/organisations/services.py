"""Writes to units and accounts. Each is one transaction with its audit entry."""

from django.db import transaction

from conac import audit, notices
from registry.domains import hooks
from registry.models import DomainStatus, Unit, User

UNIT_FIELDS = (
    "name", "kind", "credit_code", "region", "level", "address", "leader", "contact",
    "contact_mobile", "contact_email", "office_phone", "handler", "handler_id_number",
)  # fmt: skip


class TransitionError(Exception):
    """A change that the rules do not allow; the message is shown to the user."""


def register_unit(*, username, password, unit_data, actor=None):
    """新用户注册: create the unit and its account; the unit learns which office reviews it."""
    with transaction.atomic():
        office = Unit.reviewing_office_for(unit_data["level"], unit_data["region"])
        unit = Unit(office=office, **{f: unit_data.get(f, "") for f in UNIT_FIELDS})
        unit.save()
        user = User(username=username, role=User.Role.UNIT, unit=unit, email=unit.contact_email)
        user.set_password(password)
        user.save()
        audit.record(
            unit,
            "新用户注册",
            actor=actor or user,
            to_state="已注册",
            data={"username": username, "office": office.name, "credit_code": unit.credit_code},
        )
        notices.queue(
            "unit_registered",
            key=f"unit:{unit.public_id}:registered",
            context={"unit": unit, "username": username, "office": office},
            sms_to=unit.contact_mobile,
            email_to=unit.contact_email,
        )
    return unit


def update_unit(unit, *, unit_data, actor, new_password=""):
    """修改: office staff change a unit's information (and, if given, reset its password).

    The reviewing office follows the new level + region.
    """
    with transaction.atomic():
        unit = Unit.objects.select_for_update().get(pk=unit.pk)
        before = {f: _plain(getattr(unit, f)) for f in UNIT_FIELDS}
        before_office_id = unit.office_id
        for field in UNIT_FIELDS:
            setattr(unit, field, unit_data.get(field, ""))
        _require_complete(unit)
        unit.office = Unit.reviewing_office_for(unit.level, unit.region)
        unit.save()
        if before_office_id != unit.office_id:
            # The new 同级编办 manages the unit's domains from now on (reviews what is
            # waiting, collects what is unpaid, renews); money already collected stays
            # with the office that collected it.
            unit.domains.exclude(status=DomainStatus.DELETED).update(office=unit.office)
            hooks.run(hooks.unit_office_changed, unit, before_office_id, actor)
        after = {f: _plain(getattr(unit, f)) for f in UNIT_FIELDS}
        changed = {f: [before[f], after[f]] for f in UNIT_FIELDS if before[f] != after[f]}
        audit.record(unit, "修改单位信息", actor=actor, data={"changed": changed})
        if unit.account.email != unit.contact_email:
            unit.account.email = unit.contact_email
            unit.account.save(update_fields=["email"])
        if new_password:
            _set_unit_password(unit, new_password, actor)
    return unit


def reset_unit_password(unit, *, new_password, actor):
    """重置密码: the unit's office sets a new password (the unit forgot its own)."""
    with transaction.atomic():
        unit = Unit.objects.select_for_update().get(pk=unit.pk)
        _require_complete(unit)
        _set_unit_password(unit, new_password, actor)
    return unit


def _require_complete(unit):
    # The manual: "必须将所有带*号的信息完善后才能修改成功".
    if any(not getattr(unit, "region_id" if f == "region" else f) for f in Unit.REQUIRED_FIELDS):
        raise TransitionError("必须将所有带*号的信息完善后才能修改成功")


def _set_unit_password(unit, new_password, actor):
    user = User.objects.select_for_update().get(unit=unit)
    user.set_password(new_password)
    user.save(update_fields=["password"])
    entry = audit.record(unit, "重置密码", actor=actor, data={"username": user.username})
    notices.queue(
        "password_reset",
        key=f"unit:{unit.public_id}:password-reset:{entry.pk}",
        context={"unit": unit, "username": user.username, "office": unit.office},
        sms_to=unit.contact_mobile,
        email_to=unit.contact_email,
    )


def change_own_password(user, *, new_password):
    """修改密码: anyone changes their own password."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        user.set_password(new_password)
        user.save(update_fields=["password"])
        audit.record(user, "修改密码", actor=user)
    return user


def _plain(value):
    return getattr(value, "pk", value)
