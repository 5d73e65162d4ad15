"""Test data: valid units, accounts and staff, with real check characters."""

import itertools

from registry.models import Office, Region, Unit, UnitKind, UnitLevel, User
from registry.organisations.services import register_unit
from registry.organisations.validators import ID_CHECK, ID_WEIGHTS, credit_code_check_char, org_code_check_char

_sequence = itertools.count(1)
PASSWORD = "Test12345"


def credit_code(category="11", region_code="110108", seq=None):
    seq = next(_sequence) if seq is None else seq
    org = f"{70000000 + seq:08d}"
    body = f"{category}{region_code}{org}{org_code_check_char(org)}"
    return body + credit_code_check_char(body)


def id_number(seq=None):
    seq = next(_sequence) if seq is None else seq
    body = f"11010819850505{seq % 1000:03d}"
    return body + ID_CHECK[sum(int(c) * w for c, w in zip(body, ID_WEIGHTS, strict=True)) % 11]


def unit_data(**overrides):
    seq = next(_sequence)
    region = overrides.pop("region", None) or Region.objects.get(code=overrides.pop("region_code", "110108"))
    kind = overrides.get("kind", UnitKind.ORGAN)
    category = {UnitKind.ORGAN: "11", UnitKind.INSTITUTION: "12", UnitKind.SOCIAL_ORG: "51"}[kind]
    data = {
        "name": f"测试单位{seq}",
        "kind": kind,
        "credit_code": credit_code(category, region.code, seq),
        "region": region,
        "level": UnitLevel.COUNTY,
        "address": "测试路1号",
        "leader": "张三",
        "contact": "李四",
        "contact_mobile": f"+86139{seq:08d}",
        "contact_email": f"unit{seq}@example.cn",
        "office_phone": "",
        "handler": "王五",
        "handler_id_number": id_number(seq),
    }
    data.update(overrides)
    return data


def make_unit(username=None, password=PASSWORD, **overrides):
    data = unit_data(**overrides)
    username = username or f"unit{next(_sequence)}"
    return register_unit(username=username, password=password, unit_data=data)


def make_staff(username, office_code=None, role=User.Role.OFFICE, password=PASSWORD):
    office = Office.objects.get(code=office_code) if office_code else None
    user = User(username=username, role=role, office=office)
    user.set_password(password)
    user.save()
    return user


def unit_user(unit):
    return User.objects.get(unit=unit)


__all__ = ["PASSWORD", "Unit", "credit_code", "id_number", "make_staff", "make_unit", "unit_data", "unit_user"]


def make_domain(unit, label, *, suffix=None, status="pending_local", years=1, submitted_at=None, **fields):
    """A domain row in any state, straight through the ORM (the A-label computed by the name rules)."""
    from django.utils import timezone

    from registry.domains import names
    from registry.models import Domain

    suffix = suffix or names.suffix_for_kind(unit.kind)
    checked = names.validate_label(label, suffix=suffix)
    return Domain.objects.create(
        unit=unit,
        office_id=unit.office_id,
        label=checked.label,
        alabel=checked.alabel,
        suffix=checked.suffix,
        years=years,
        status=status,
        submitted_at=submitted_at or timezone.now(),
        **fields,
    )
