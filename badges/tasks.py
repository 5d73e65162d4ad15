"""Celery tasks of the badges app: thin wrappers around services."""

from celery import shared_task

from . import services


@shared_task(autoretry_for=(Exception,), retry_backoff=30, retry_backoff_max=600, max_retries=8)
def generate_application_documents(application_id):
    """申请函 and 申请表 after CONAC's approval; retried on failure, idempotent.

    True when this run made a file, False when both were there already (or no paper is needed).
    """
    return services.generate_documents(application_id)
