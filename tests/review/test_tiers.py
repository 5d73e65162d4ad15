"""Declared tiers: a reviewable passes the tiers it names (DNS changes: CONAC alone); domains keep both."""

from datetime import date, timedelta

import pytest

from conac.audit import history_of
from registry.dns import services as dns_services
from registry.models import ChangeStatus, DnsChange, DnsRecord, Domain, DomainStatus
from review import services as review
from review.models import Decision, Outcome, Reviewable, Tier
from tests import factories


@pytest.fixture
def domain(unit):
    return factories.make_domain(unit, "海淀测试局")


@pytest.fixture
def change(unit, unit_user):
    live = factories.make_domain(unit, "海淀区测试局", status="active", expires_on=date.today() + timedelta(days=300))
    return dns_services.request_add(live, actor=unit_user, host="www", rtype="A", value="1.2.3.4")


def test_declared_tiers():
    assert Reviewable.REVIEW_TIERS == (Tier.OFFICE, Tier.CONAC)
    assert Domain.REVIEW_TIERS == (Tier.OFFICE, Tier.CONAC)
    assert DnsChange.REVIEW_TIERS == (Tier.CONAC,)


def test_the_state_after_each_tier():
    assert review.state_after_pass(Domain(), Tier.OFFICE) == DomainStatus.PENDING_CONAC
    assert review.state_after_pass(Domain(), Tier.CONAC) == DomainStatus.AWAITING_PAYMENT
    assert review.state_after_pass(DnsChange(), Tier.CONAC) == ChangeStatus.APPROVED


def test_a_one_tier_item_passes_straight_to_its_passed_state(change, conac_user):
    assert list(review.queue_for(DnsChange.objects.all(), conac_user)) == [change]
    decision = review.approve(change, actor=conac_user, opinion="同意")
    assert change.status == ChangeStatus.APPROVED  # the caller's object follows
    change.refresh_from_db()
    assert change.status == ChangeStatus.APPROVED
    assert (decision.tier, decision.outcome, decision.round, decision.reviewer) == (
        Tier.CONAC,
        Outcome.PASS,
        1,
        conac_user,
    )
    assert decision.office_name == "政务和公益机构域名注册管理中心"
    assert review.decisions_of(change).count() == 1
    entry = history_of(change).first()
    assert (entry.action, entry.from_state, entry.to_state) == ("CONAC复审：审核通过", "待审核", "已生效")
    assert DnsRecord.objects.effective().count() == 1  # the passed hook ran
    assert not review.queue_for(DnsChange.objects.all(), conac_user).exists()


def test_a_one_tier_item_rejected(change, conac_user):
    review.reject(change, actor=conac_user, opinion="  地址不属于本单位 ")
    assert (change.status, change.rejection_reason) == (ChangeStatus.REJECTED, "地址不属于本单位")
    decision = review.decisions_of(change).get()
    assert (decision.tier, decision.outcome, decision.opinion) == (Tier.CONAC, Outcome.REJECT, "地址不属于本单位")
    assert not DnsRecord.objects.exists()


@pytest.mark.parametrize("who", ["office_user", "other_office_user", "province_office_user"])
def test_a_tier_the_item_does_not_declare_sees_nothing_and_decides_nothing(change, request, who):
    actor = request.getfixturevalue(who)
    assert not review.queue_for(DnsChange.objects.all(), actor).exists()
    for decide in (review.approve, review.reject):
        with pytest.raises(review.ReviewError, match="没有审核权限"):
            decide(change, actor=actor, opinion="不同意")
    change.refresh_from_db()
    assert change.status == ChangeStatus.PENDING
    assert not Decision.objects.exists()


@pytest.mark.parametrize("who", ["unit_user", "other_unit_user"])
def test_units_do_not_review_one_tier_items(change, request, who):
    with pytest.raises(review.ReviewError, match="没有审核权限"):
        review.approve(change, actor=request.getfixturevalue(who))
    assert not Decision.objects.exists()


def test_a_rejected_one_tier_item_is_not_resubmitted(change, unit_user, conac_user):
    review.reject(change, actor=conac_user, opinion="地址不属于本单位")
    with pytest.raises(review.ReviewError, match="不能重新提交"):
        review.resubmit(change, actor=unit_user)
    change.refresh_from_db()
    assert (change.status, change.review_round) == (ChangeStatus.REJECTED, 1)


# --- Two tiers, unchanged -------------------------------------------------------------------------


def test_two_tier_domains_still_go_office_then_conac(domain, office_user, conac_user):
    assert list(review.queue_for(Domain.objects.all(), office_user)) == [domain]
    assert not review.queue_for(Domain.objects.all(), conac_user).exists()
    with pytest.raises(review.ReviewError, match="尚未经同级编办审核通过"):
        review.approve(domain, actor=conac_user)

    review.approve(domain, actor=office_user)
    assert domain.status == DomainStatus.PENDING_CONAC
    assert not review.queue_for(Domain.objects.all(), office_user).exists()
    assert list(review.queue_for(Domain.objects.all(), conac_user)) == [domain]

    review.approve(domain, actor=conac_user)
    domain.refresh_from_db()
    assert domain.status == DomainStatus.AWAITING_PAYMENT
    assert [d.tier for d in review.decisions_of(domain)] == [Tier.OFFICE, Tier.CONAC]


def test_two_tier_domains_resubmit_to_the_first_tier(domain, unit_user, office_user, conac_user):
    review.approve(domain, actor=office_user)
    review.reject(domain, actor=conac_user, opinion="名称不规范")
    review.resubmit(domain, actor=unit_user)
    domain.refresh_from_db()
    assert (domain.status, domain.review_round) == (DomainStatus.PENDING_LOCAL, 2)


def test_dns_queues_and_domain_queues_do_not_mix(domain, change, office_user, conac_user):
    assert list(review.queue_for(Domain.objects.all(), office_user)) == [domain]
    assert not review.queue_for(DnsChange.objects.all(), office_user).exists()
    assert list(review.queue_for(DnsChange.objects.all(), conac_user)) == [change]
    assert not review.queue_for(Domain.objects.all(), conac_user).exists()


def test_a_step_the_lifecycle_table_refuses_is_a_review_error(domain, office_user, monkeypatch):
    from conac.workflow import TransitionError
    from registry.domains.models import TRANSITIONS

    trimmed = {k: v for k, v in TRANSITIONS.items() if k != (DomainStatus.PENDING_LOCAL, DomainStatus.PENDING_CONAC)}
    monkeypatch.setattr(Domain, "TRANSITIONS", trimmed)
    with pytest.raises(review.ReviewError, match="不允许的状态变更") as caught:
        review.approve(domain, actor=office_user)
    assert isinstance(caught.value, TransitionError)  # what callers of the table already catch
    domain.refresh_from_db()
    assert domain.status == DomainStatus.PENDING_LOCAL
    assert not Decision.objects.exists()
