from celery import shared_task

from . import exports, notices, sms


@shared_task(
    autoretry_for=(sms.TransientSendError,),
    retry_backoff=30,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=notices.MAX_ATTEMPTS - 1,
)
def send_notice(notice_pk):
    notices.deliver(notice_pk)


@shared_task
def resend_queued_notices():
    notices.resend_queued()


@shared_task
def run_export(job_pk):
    """Write one 导出Excel job's file (conac/exports.py); a second run of a finished job does nothing."""
    exports.run(job_pk)


@shared_task
def remove_expired_exports():
    """Delete the export files and jobs past EXPORT_KEEP_HOURS."""
    return exports.remove_expired()


@shared_task
def remove_expired_rate_counters():
    """Finished rate-limit windows (the database counter) are dropped once a day."""
    from . import ratelimit

    return ratelimit.remove_expired()
