"""Celery tasks of the badges app: thin wrappers around services."""

from celery import shared_task
from django.db import OperationalError

from . import services


@shared_task(autoretry_for=(Exception,), retry_backoff=30, retry_backoff_max=600, max_retries=8)
def generate_application_documents(application_id):
    """申请函 and 申请表 after CONAC's approval; retried on failure, idempotent.

    True when this run made a file, False when both were there already (or no paper is needed).
    """
    return services.generate_documents(application_id)


@shared_task
def mark_overdue_badges():
    """Daily: 已发放 badges past their 挂标期限 → 逾期未挂标 (idempotent)."""
    return services.mark_overdue_badges()


@shared_task
def check_due_badges():
    """Hourly: queue one check per badge that is due (each check is its own task)."""
    pks = list(services.badges_due_for_check().values_list("pk", flat=True))
    for pk in pks:
        check_badge.delay(pk)
    return len(pks)


# A site's own failures are the check's result, not errors; only our side (database) is retried.
@shared_task(autoretry_for=(OperationalError,), retry_backoff=30, max_retries=3)
def check_badge(badge_id):
    """挂标检查 of one due badge: True found, False not found, None not fetched.

    A badge no longer due is skipped: when the queue runs late, the next beat run queues it
    again, and two quick misses must not drop a hung badge that only gets a check a week.
    """
    badge = services.badges_due_for_check().filter(pk=badge_id).first()
    if badge is None:
        return None
    check = services.check_badge(badge)
    return None if check is None else check.found
