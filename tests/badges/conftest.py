"""Personas of the badge tests, on top of tests/conftest.py's: a 事业单位 and a 社会组织 of 海淀区,
each with a live domain of its suffix; the 党政机关 ``unit`` with its live ``.政务`` name."""

import pytest

from tests import factories
from tests.badges.helpers import live_domain


@pytest.fixture
def organ_domain(unit):
    return live_domain(unit, "海淀测试局")


@pytest.fixture
def institution(db):
    return factories.make_unit(username="inst", name="海淀区示范图书馆", region_code="110108", kind="institution")


@pytest.fixture
def institution_user(institution):
    return factories.unit_user(institution)


@pytest.fixture
def institution_domain(institution):
    return live_domain(institution, "海淀示范图书馆")


@pytest.fixture
def social_org(db):
    return factories.make_unit(username="soc", name="海淀区志愿者协会", region_code="110108", kind="social_org")


@pytest.fixture
def social_org_domain(social_org):
    return live_domain(social_org, "海淀志愿者协会")
