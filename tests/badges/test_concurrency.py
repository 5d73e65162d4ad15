"""Two people clicking the badge buttons at the same moment, on PostgreSQL with real transactions
and threads: each thread has its own connection, so the row locks and the unique constraints
decide, exactly as between two web processes."""

import time

import pytest
from django.utils import timezone

from badges import services
from badges.models import Badge, WebsiteApplication
from conac import audit
from review import services as review
from review.models import Decision
from tests import factories
from tests.badges.helpers import live_domain, row
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


def waiting(domain, status):
    """An application in ``status`` straight through the ORM (no PDFs rendered on the way)."""
    extra = {"conac_approved_at": timezone.now()} if status == "awaiting_paper" else {}
    application = row(domain, status, **extra)
    application.save()
    return application


def test_two_office_staff_confirming_the_paper_at_once_issue_one_badge(unit, office_user, slow_audit, sms_outbox):
    colleague = factories.make_staff("hd_staff_2", "110108")
    application = waiting(live_domain(unit, "海淀并发站"), "awaiting_paper")

    def confirm(actor):
        return lambda: services.confirm_paper(WebsiteApplication.objects.get(pk=application.pk), actor=actor)

    ok, failed = split(run_together(confirm(office_user), confirm(colleague)))

    assert len(ok) == 1 and len(failed) == 1, failed
    assert isinstance(failed[0], services.ApplicationError) and "已由其他人员处理" in str(failed[0])
    badge = Badge.objects.get()
    assert badge == ok[0] and badge.site_sequence == 1
    assert WebsiteApplication.objects.get(pk=application.pk).status == "issued"
    assert sum(badge.code in m["body"] for m in sms_outbox) == 1


def test_confirm_and_mismatch_at_once_leave_one_outcome(unit, office_user, slow_audit):
    colleague = factories.make_staff("hd_staff_2", "110108")
    application = waiting(live_domain(unit, "海淀并发站"), "awaiting_paper")

    def fresh():
        return WebsiteApplication.objects.get(pk=application.pk)

    ok, failed = split(
        run_together(
            lambda: services.confirm_paper(fresh(), actor=office_user),
            lambda: services.reject_paper(fresh(), reason="资料不全", actor=colleague),
        )
    )

    assert len(ok) == 1 and len(failed) == 1 and isinstance(failed[0], services.ApplicationError), failed
    status = WebsiteApplication.objects.get(pk=application.pk).status
    assert (status, Badge.objects.count()) in (("issued", 1), ("paper_mismatch", 0))


def test_two_sites_of_one_unit_confirmed_at_once_get_two_sequences(unit, office_user, slow_audit):
    colleague = factories.make_staff("hd_staff_2", "110108")
    first = waiting(live_domain(unit, "海淀并发站"), "awaiting_paper")
    second = waiting(live_domain(unit, "海淀并发二站"), "awaiting_paper")

    ok, failed = split(
        run_together(
            lambda: services.confirm_paper(first, actor=office_user),
            lambda: services.confirm_paper(second, actor=colleague),
        )
    )

    assert failed == []
    assert sorted(b.site_sequence for b in Badge.objects.all()) == [1, 2]
    assert len(set(Badge.objects.values_list("code", flat=True))) == 2


def test_two_conac_approvals_of_an_institution_at_once_issue_one_badge(conac_user, slow_audit, sms_outbox):
    institution = factories.make_unit(username="inst", region_code="110108", kind="institution")
    colleague = factories.make_staff("conac_staff_2", None, role="conac")
    application = waiting(live_domain(institution, "海淀并发馆"), "pending_conac")

    def approve(actor):
        return lambda: review.approve(WebsiteApplication.objects.get(pk=application.pk), actor=actor)

    ok, failed = split(run_together(approve(conac_user), approve(colleague)))

    assert len(ok) == 1 and len(failed) == 1, failed
    assert isinstance(failed[0], review.ReviewError), repr(failed[0])
    badge = Badge.objects.get()
    assert badge.kind == "blue" and badge.application_id == application.pk
    assert WebsiteApplication.objects.get(pk=application.pk).status == "issued"
    assert Decision.objects.count() == 1
    assert sum(badge.code in m["body"] for m in sms_outbox) == 1


def test_a_resubmission_and_a_new_application_for_one_site_at_once_leave_one_open(unit, office_user, slow_audit):
    from tests.badges.helpers import data

    user = factories.unit_user(unit)
    first = live_domain(unit, "海淀并发站")
    second = live_domain(unit, "海淀并发二站")
    rejected = waiting(first, "rejected")
    values = data(second)

    ok, failed = split(
        run_together(
            lambda: services.resubmit_application(
                WebsiteApplication.objects.get(pk=rejected.pk),
                actor=user,
                **{k: v for k, v in values.items() if k != "kind"},
            ),
            lambda: services.submit_application(unit, actor=user, **values),
        )
    )

    assert len(ok) == 1 and len(failed) == 1, failed
    assert isinstance(failed[0], services.ApplicationError) and "不能重复申请" in str(failed[0]), repr(failed[0])
    assert WebsiteApplication.objects.open().filter(domain=second).count() == 1
