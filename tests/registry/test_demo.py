"""manage.py seed_demo: the demo accounts of the issue log in; a second run changes nothing."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from conac.models import AuditEntry, Notice
from registry.models import Region, Unit, User
from registry.organisations.demo import DEMO_UNITS, UNIT_PASSWORD
from registry.organisations.validators import normalize_mobile, validate_credit_code, validate_id_number

DEMO_ACCOUNTS = [
    # username, password, role, office name
    ("admin", "Admin12345", "admin", None),
    ("conac", "Conac12345", "conac", None),
    ("zybb", "Zhongyang12345", "office", "中央编办"),
    ("bjbb", "Beijing12345", "office", "北京市委编办"),
    ("hdbb", "Haidian12345", "office", "北京市海淀区委编办"),
    ("shbb", "Shanghai12345", "office", "上海市委编办"),
]


@pytest.fixture
def seeded(db):
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def _log_in(username, password):
    client = Client()
    response = client.post("/login/", {"username": username, "password": password})
    assert response.status_code == 302, f"{username} could not log in"
    assert "_auth_user_id" in client.session
    return client


@pytest.mark.parametrize(("username", "password", "role", "office_name"), DEMO_ACCOUNTS)
def test_demo_account_logs_in_with_its_password(seeded, username, password, role, office_name):
    user = User.objects.get(username=username)
    assert user.role == role
    assert (user.office.name if user.office else None) == office_name
    client = _log_in(username, password)
    assert client.get("/").status_code == 200


def test_admin_is_a_superuser_who_opens_the_admin(seeded):
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert _log_in("admin", "Admin12345").get("/admin/").status_code == 200


def test_office_staff_see_their_demo_units(seeded):
    body = _log_in("hdbb", "Haidian12345").get("/units/").content.decode()
    assert "北京市海淀区示范图书馆" in body and "上海市示范管理局" not in body
    body = _log_in("shbb", "Shanghai12345").get("/units/").content.decode()
    assert "上海市示范管理局" in body and "北京市海淀区示范图书馆" not in body


def test_demo_units_cover_every_kind_and_level_and_are_valid(seeded):
    units = Unit.objects.filter(account__username__in=[row[0] for row in DEMO_UNITS])
    assert units.count() == len(DEMO_UNITS)
    assert set(units.values_list("kind", flat=True)) == {"organ", "institution", "social_org"}
    assert set(units.values_list("level", flat=True)) == {"central", "province", "county"}
    for unit in units:
        validate_credit_code(unit.credit_code)
        validate_id_number(unit.handler_id_number)
        assert normalize_mobile(unit.contact_mobile) == unit.contact_mobile
        assert unit.office == Unit.reviewing_office_for(unit.level, unit.region)
    offices = set(units.values_list("office__name", flat=True))
    assert offices == {"中央编办", "北京市委编办", "北京市海淀区委编办", "上海市委编办"}
    _log_in("hd_inst", UNIT_PASSWORD)


def test_second_run_creates_nothing(seeded):
    assert int(re.search(r"新建 (\d+) 个", seeded).group(1)) >= 1 + 5 + len(DEMO_UNITS)
    counts = (User.objects.count(), Unit.objects.count(), AuditEntry.objects.count(), Notice.objects.count())
    passwords = dict(User.objects.values_list("username", "password"))
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "新建 0 个" in out.getvalue()
    assert counts == (User.objects.count(), Unit.objects.count(), AuditEntry.objects.count(), Notice.objects.count())
    assert passwords == dict(User.objects.values_list("username", "password"))
    assert Region.objects.count() == 3213


def test_seed_leaves_a_changed_demo_password_alone(seeded):
    user = User.objects.get(username="hdbb")
    user.set_password("Changed12345")
    user.save()
    call_command("seed_demo", stdout=StringIO())
    _log_in("hdbb", "Changed12345")
