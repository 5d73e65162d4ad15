from celery import shared_task

from . import notices, sms


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
