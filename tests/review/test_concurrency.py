"""Two people clicking at the same moment, on PostgreSQL with real transactions and threads.

Each thread has its own database connection, so row locks, advisory locks and the unique
constraints decide, exactly as between two web processes.
"""

import time

import pytest
from django.core.exceptions import ValidationError

from conac import audit
from conac.audit import history_of
from conac.models import Notice
from registry.domains import names
from registry.domains import services as domain_services
from registry.models import Domain, DomainStatus
from review import services as review
from review.models import Decision, Outcome
from tests import factories
from tests.concurrency import _persona_regions, _whole_tree_back_after_module, run_together, split  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def slow_audit(monkeypatch):
    """Hold each transaction open a little longer, so the second click arrives while the first is inside."""
    real_record = audit.record

    def record(*args, **kwargs):
        time.sleep(0.2)
        return real_record(*args, **kwargs)

    monkeypatch.setattr(audit, "record", record)


@pytest.mark.parametrize("second_action", ["approve", "reject"])
def test_two_office_staff_deciding_at_once_make_one_decision(unit, office_user, slow_audit, second_action):
    colleague = factories.make_staff("hd_staff_2", "110108")
    domain = factories.make_domain(unit, "并发审核")

    def decide(actor, action):
        return lambda: getattr(review, action)(Domain.objects.get(pk=domain.pk), actor=actor, opinion="名称不规范")

    ok, failed = split(run_together(decide(office_user, "approve"), decide(colleague, second_action)))

    assert len(ok) == 1 and len(failed) == 1, failed
    assert isinstance(failed[0], review.ReviewError), repr(failed[0])
    assert "已由其他审核人员处理" in str(failed[0])
    decision = Decision.objects.get(object_id=domain.pk)
    assert decision.pk == ok[0].pk
    domain.refresh_from_db()
    expected = DomainStatus.PENDING_CONAC if decision.outcome == Outcome.PASS else DomainStatus.REJECTED
    assert domain.status == expected
    assert history_of(domain).count() == 1


def test_two_conac_staff_approving_at_once_make_one_decision(unit, office_user, conac_user, slow_audit):
    colleague = factories.make_staff("conac_staff_2", None, role="conac")
    domain = factories.make_domain(unit, "并发复审")
    review.approve(domain, actor=office_user)

    def approve(actor):
        return lambda: review.approve(Domain.objects.get(pk=domain.pk), actor=actor)

    ok, failed = split(run_together(approve(conac_user), approve(colleague)))

    assert len(ok) == 1 and len(failed) == 1, failed
    assert isinstance(failed[0], review.ReviewError), repr(failed[0])
    assert Decision.objects.filter(object_id=domain.pk, tier=2).count() == 1
    domain.refresh_from_db()
    assert domain.status == DomainStatus.AWAITING_PAYMENT
    # The unit is told to pay once, not twice.
    assert Notice.objects.filter(template="domain_approved").count() == 2  # one SMS, one email


def apply_for(unit, label, actor):
    return lambda: domain_services.submit_domain_application(unit, label=label, suffix=".政务", years=1, actor=actor)


@pytest.fixture
def slow_name_check(monkeypatch):
    """Let both applications pass the first name check before either is written."""
    real_check = domain_services.check_name

    def check_name(*args, **kwargs):
        checked = real_check(*args, **kwargs)
        time.sleep(0.2)
        return checked

    monkeypatch.setattr(domain_services, "check_name", check_name)


def test_two_units_applying_for_one_name_at_once_get_one_domain(
    unit, other_unit, unit_user, other_unit_user, slow_name_check
):
    ok, failed = split(
        run_together(apply_for(unit, "同名申请", unit_user), apply_for(other_unit, "同名申请", other_unit_user))
    )

    assert len(ok) == 1 and len(failed) == 1, failed
    assert isinstance(failed[0], ValidationError), repr(failed[0])
    assert "已被注册或正在申请中" in str(failed[0])
    assert Domain.objects.live().filter(label="同名申请").count() == 1


def test_two_units_applying_for_variants_at_once_get_one_domain(
    unit, other_unit, unit_user, other_unit_user, slow_name_check
):
    simplified = "政务公开"
    traditional = next(v for v in sorted(names.variants_of(simplified)) if "務" in v and "開" in v)

    ok, failed = split(
        run_together(apply_for(unit, simplified, unit_user), apply_for(other_unit, traditional, other_unit_user))
    )

    assert len(ok) == 1 and len(failed) == 1, failed
    assert isinstance(failed[0], ValidationError), repr(failed[0])
    assert "简繁体变体" in str(failed[0])
    assert Domain.objects.live().filter(label__in=[simplified, traditional]).count() == 1
