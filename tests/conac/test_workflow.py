"""The lifecycle tables are the rule: a step missing from a table raises and changes nothing."""

import pytest

from billing.models import CHARGE_TRANSITIONS, C, check_charge_transition
from conac.workflow import TransitionError
from registry.models import TRANSITIONS, DomainStatus, check_transition
from review import services as review
from tests.factories import make_domain


def test_every_declared_domain_step_passes_and_its_role_matters():
    for (before, after), role in TRANSITIONS.items():
        check_transition(before, after, role)
        with pytest.raises(TransitionError):
            check_transition(before, after, "someone-else")


def test_steps_not_in_the_tables_are_refused_with_chinese_labels():
    with pytest.raises(TransitionError, match="“已删除”→“注册成功”"):
        check_transition(DomainStatus.DELETED, DomainStatus.ACTIVE, "office")
    with pytest.raises(TransitionError, match="“待缴费”→“已认款”"):
        check_charge_transition(C.PENDING, C.CONSUMED, "conac")
    for (before, after), role in CHARGE_TRANSITIONS.items():
        check_charge_transition(before, after, role)


def test_the_review_engine_consults_the_table(unit, office_user, monkeypatch):
    domain = make_domain(unit, "表格测试")
    trimmed = {k: v for k, v in TRANSITIONS.items() if k != (DomainStatus.PENDING_LOCAL, DomainStatus.PENDING_CONAC)}
    monkeypatch.setattr(type(domain), "TRANSITIONS", trimmed)
    with pytest.raises(TransitionError):
        review.approve(domain, actor=office_user)
    domain.refresh_from_db()
    assert domain.status == DomainStatus.PENDING_LOCAL
