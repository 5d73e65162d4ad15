"""The two-tier review engine: who may decide what and when, and what each decision leaves behind."""

import re

import pytest
from django.contrib.auth.models import AnonymousUser

from conac.audit import history_of
from conac.models import AuditEntry, Notice
from registry.domains import services as domain_services
from registry.models import DomainStatus
from review import services as review
from review.models import Decision, Outcome, Tier
from tests import factories

CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def domain(unit):
    return factories.make_domain(unit, "海淀测试局")


def snapshot(domain):
    """Everything a refused decision must leave untouched."""
    domain.refresh_from_db()
    return {
        "status": domain.status,
        "round": domain.review_round,
        "reason": domain.rejection_reason,
        "years": domain.years,
        "decisions": list(review.decisions_of(domain).values_list("pk", "tier", "outcome", "round")),
        "audit": AuditEntry.objects.count(),
        "notices": Notice.objects.count(),
    }


def assert_refused(call, domain):
    before = snapshot(domain)
    with pytest.raises(review.ReviewError) as caught:
        call()
    assert CHINESE.search(str(caught.value)), str(caught.value)
    assert snapshot(domain) == before
    return str(caught.value)


def set_status(domain, status):
    type(domain).objects.filter(pk=domain.pk).update(status=status)
    domain.refresh_from_db()


# --- Out of turn, twice, wrong office, wrong role ---------------------------------------


@pytest.mark.parametrize("decide", ["approve", "reject"])
def test_conac_cannot_decide_before_the_office(domain, conac_user, decide):
    message = assert_refused(lambda: getattr(review, decide)(domain, actor=conac_user, opinion="名称不规范"), domain)
    assert "尚未经同级编办审核通过" in message
    assert domain.status == DomainStatus.PENDING_LOCAL


def test_office_cannot_approve_twice(domain, office_user):
    review.approve(domain, actor=office_user)
    message = assert_refused(lambda: review.approve(domain, actor=office_user), domain)
    assert "不能重复审核" in message
    assert domain.status == DomainStatus.PENDING_CONAC
    assert review.decisions_of(domain).count() == 1


def test_office_cannot_decide_an_item_waiting_for_conac(domain, office_user):
    set_status(domain, DomainStatus.PENDING_CONAC)
    assert_refused(lambda: review.approve(domain, actor=office_user), domain)
    assert_refused(lambda: review.reject(domain, actor=office_user, opinion="名称不规范"), domain)
    assert domain.status == DomainStatus.PENDING_CONAC


def test_conac_cannot_approve_twice(domain, office_user, conac_user):
    review.approve(domain, actor=office_user)
    review.approve(domain, actor=conac_user)
    assert_refused(lambda: review.approve(domain, actor=conac_user), domain)
    assert_refused(lambda: review.reject(domain, actor=conac_user, opinion="名称不规范"), domain)
    assert domain.status == DomainStatus.AWAITING_PAYMENT


@pytest.mark.parametrize("status", [DomainStatus.REJECTED, DomainStatus.DELETED, DomainStatus.AWAITING_PAYMENT])
def test_nobody_decides_a_closed_item(domain, office_user, conac_user, status):
    set_status(domain, status)
    assert_refused(lambda: review.approve(domain, actor=office_user), domain)
    assert_refused(lambda: review.approve(domain, actor=conac_user), domain)
    assert domain.status == status


def test_another_office_cannot_decide(domain, other_office_user):
    message = assert_refused(lambda: review.approve(domain, actor=other_office_user), domain)
    assert "不属于本编办" in message
    assert_refused(lambda: review.reject(domain, actor=other_office_user, opinion="名称不规范"), domain)


def test_the_higher_office_is_not_the_first_tier_of_a_county_unit(domain, province_office_user):
    # 北京市委编办 sees 海淀区's domains read-only, but 海淀区委编办 reviews them.
    assert_refused(lambda: review.approve(domain, actor=province_office_user), domain)
    assert_refused(lambda: review.reject(domain, actor=province_office_user, opinion="名称不规范"), domain)
    assert domain.status == DomainStatus.PENDING_LOCAL


@pytest.mark.parametrize("who", ["unit_user", "other_unit_user", "anonymous"])
def test_units_and_anonymous_cannot_decide(domain, request, who):
    actor = AnonymousUser() if who == "anonymous" else request.getfixturevalue(who)
    message = assert_refused(lambda: review.approve(domain, actor=actor), domain)
    assert "没有审核权限" in message
    assert_refused(lambda: review.reject(domain, actor=actor, opinion="名称不规范"), domain)


@pytest.mark.parametrize("opinion", ["", "   ", "\n\t", None])
def test_rejection_needs_a_reason(domain, office_user, opinion):
    message = assert_refused(lambda: review.reject(domain, actor=office_user, opinion=opinion), domain)
    assert "审核意见" in message


def test_conac_rejection_needs_a_reason_too(domain, office_user, conac_user):
    review.approve(domain, actor=office_user)
    assert_refused(lambda: review.reject(domain, actor=conac_user, opinion="  "), domain)
    assert domain.status == DomainStatus.PENDING_CONAC


def _resubmit(domain, actor, label="海淀测试局"):
    return domain_services.resubmit_domain_application(domain, label=label, suffix=".政务", years=2, actor=actor)


@pytest.mark.parametrize(
    "status", [DomainStatus.PENDING_LOCAL, DomainStatus.PENDING_CONAC, DomainStatus.AWAITING_PAYMENT]
)
def test_only_a_rejected_application_can_be_resubmitted(domain, unit_user, status):
    set_status(domain, status)
    message = assert_refused(lambda: _resubmit(domain, unit_user), domain)
    assert "只有审核不通过的申请可以重新提交" in message
    assert_refused(lambda: review.resubmit(domain, actor=unit_user), domain)


def test_another_unit_cannot_resubmit(domain, office_user, other_unit_user):
    review.reject(domain, actor=office_user, opinion="名称不规范")
    message = assert_refused(lambda: _resubmit(domain, other_unit_user), domain)
    assert "本单位" in message
    # The engine itself refuses, whatever the caller checks.
    assert_refused(lambda: review.resubmit(domain, actor=other_unit_user), domain)
    assert domain.status == DomainStatus.REJECTED


@pytest.mark.parametrize("who", ["office_user", "conac_user", "anonymous"])
def test_reviewers_and_anonymous_cannot_resubmit(domain, office_user, request, who):
    review.reject(domain, actor=office_user, opinion="名称不规范")
    actor = AnonymousUser() if who == "anonymous" else request.getfixturevalue(who)
    assert_refused(lambda: review.resubmit(domain, actor=actor), domain)


# --- What each decision records ----------------------------------------------------------


def test_each_decision_is_recorded_with_its_audit_entry(domain, office_user, conac_user):
    review.approve(domain, actor=office_user, opinion="名称规范")
    assert domain.status == DomainStatus.PENDING_CONAC
    review.approve(domain, actor=conac_user)
    domain.refresh_from_db()
    assert domain.status == DomainStatus.AWAITING_PAYMENT

    first, second = review.decisions_of(domain)
    assert (first.tier, first.outcome, first.opinion, first.reviewer, first.round) == (
        Tier.OFFICE,
        Outcome.PASS,
        "名称规范",
        office_user,
        1,
    )
    assert first.office_name == "北京市海淀区委编办"
    assert (second.tier, second.outcome, second.reviewer, second.round) == (Tier.CONAC, Outcome.PASS, conac_user, 1)

    entries = list(history_of(domain).order_by("id"))
    assert [(e.action, e.from_state, e.to_state, e.actor) for e in entries] == [
        ("编办审核：审核通过", "待审核", "待复审", office_user),
        ("CONAC复审：审核通过", "待复审", "待缴费", conac_user),
    ]
    assert entries[0].reason == "名称规范"


def test_rejection_keeps_the_reason_and_resubmission_starts_round_two(domain, unit_user, office_user, conac_user):
    review.reject(domain, actor=office_user, opinion="  名称与单位名称不符  ")
    domain.refresh_from_db()
    assert domain.status == DomainStatus.REJECTED
    assert domain.rejection_reason == "名称与单位名称不符"
    rejected = review.decisions_of(domain).get()
    assert (rejected.tier, rejected.outcome, rejected.opinion, rejected.round) == (
        Tier.OFFICE,
        Outcome.REJECT,
        "名称与单位名称不符",
        1,
    )
    entry = history_of(domain).first()
    assert (entry.from_state, entry.to_state, entry.reason) == ("待审核", "审核不通过", "名称与单位名称不符")

    _resubmit(domain, unit_user, label="海淀区测试局")
    domain.refresh_from_db()
    assert (domain.status, domain.review_round, domain.label, domain.years) == (
        DomainStatus.PENDING_LOCAL,
        2,
        "海淀区测试局",
        2,
    )
    resubmitted = history_of(domain).first()
    assert (resubmitted.action, resubmitted.from_state, resubmitted.to_state) == ("重新提交", "审核不通过", "待审核")
    assert resubmitted.data["changed"]["label"] == ["海淀测试局", "海淀区测试局"]

    review.approve(domain, actor=office_user)
    review.reject(domain, actor=conac_user, opinion="请使用单位全称")
    domain.refresh_from_db()
    assert domain.status == DomainStatus.REJECTED and domain.rejection_reason == "请使用单位全称"
    assert [(d.round, d.tier, d.outcome) for d in review.decisions_of(domain)] == [
        (1, Tier.OFFICE, Outcome.REJECT),
        (2, Tier.OFFICE, Outcome.PASS),
        (2, Tier.CONAC, Outcome.REJECT),
    ]

    _resubmit(domain, unit_user, label="海淀区测试局")
    review.approve(domain, actor=office_user)
    review.approve(domain, actor=conac_user)
    domain.refresh_from_db()
    assert domain.status == DomainStatus.AWAITING_PAYMENT and domain.review_round == 3
    assert domain.rejection_reason == ""
    assert Decision.objects.filter(object_id=domain.pk).count() == 5


def test_queue_for_gives_each_reviewer_their_own_items(
    unit, shanghai_unit, office_user, other_office_user, conac_user, unit_user
):
    from registry.models import Domain

    mine = factories.make_domain(unit, "海淀排队")
    theirs = factories.make_domain(shanghai_unit, "上海排队")
    passed = factories.make_domain(unit, "海淀已过", status=DomainStatus.PENDING_CONAC)
    assert list(review.queue_for(Domain.objects.all(), office_user)) == [mine]
    assert list(review.queue_for(Domain.objects.all(), other_office_user)) == [theirs]
    assert list(review.queue_for(Domain.objects.all(), conac_user)) == [passed]
    assert list(review.queue_for(Domain.objects.all(), unit_user)) == []
