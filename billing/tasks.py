from celery import shared_task

from . import jobs


@shared_task
def run_daily_jobs():
    jobs.run_all()
