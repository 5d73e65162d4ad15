"""导出Excel at national scale: an export larger than one page is an ``ExportJob`` written by a task.

The page that offers 导出Excel decides: a result that fits on one page is answered at once;
a larger one becomes a job (``start``), written by the Celery task ``conac.tasks.run_export``
(``run``) while the owner watches a progress bar (htmx polling), then downloads the file.
Only the user who asked sees the job, for ``EXPORT_KEEP_HOURS``; the beat job
``remove_expired_exports`` deletes the file and the row after that.

Each app registers what it exports with ``@source(title=...)``: a function of
``(owner, parameters)`` that returns a ``Table`` — columns, a lazy row iterator and a count.
The task calls it again when it runs, so the owner's scope (``visible_to``) is applied
exactly as on the page. Rows stream from the database (``iterator(chunk_size=...)``) into
``conac.spreadsheets.SheetWriter``, so memory stays flat for any number of rows.
"""

import datetime
import importlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.files import File
from django.core.files.storage import storages
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.utils import timezone

from . import audit, workflow
from .access import AUTHENTICATED, allow
from .models import ExportJob, ExportStatus
from .spreadsheets import SheetWriter

log = logging.getLogger(__name__)

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A job still 生成中 whose progress has not moved for this long lost its worker: a redelivered
# task takes it up again (tasks are acknowledged late). Longer than any single database fetch.
STALE_AFTER = datetime.timedelta(minutes=10)
FAILED_MESSAGE = "导出失败，请稍后重新导出；如多次失败，请缩小查询范围或联系系统管理员。"


class ExportError(Exception):
    """An export that cannot be written as asked; the message is shown to its owner."""


@dataclass
class Table:
    """What an export writes: a sheet title, its columns, the rows (lazy) and how many there are."""

    title: str
    columns: list
    rows: Iterable
    count: Callable[[], int]


@dataclass(frozen=True)
class Source:
    kind: str
    title: str
    build: Callable  # (owner, parameters) -> Table


SOURCES: dict[str, Source] = {}


def source(*, title):
    """Register an export: ``@source(title="域名查询") def rows(owner, parameters): return Table(...)``."""

    def register(function):
        kind = f"{function.__module__}.{function.__qualname__}"
        SOURCES[kind] = Source(kind=kind, title=title, build=function)
        function.export_kind = kind
        return function

    return register


def source_for(kind):
    """The registered export named ``kind``, importing its module first (a fresh worker has not)."""
    if kind not in SOURCES:
        module = kind.rpartition(".")[0]
        app = module.partition(".")[0]
        if app in {config.name for config in _app_configs()}:
            importlib.import_module(module)
    try:
        return SOURCES[kind]
    except KeyError:
        raise ExportError(f"未知的导出类型：{kind}") from None


def _app_configs():
    from django.apps import apps

    return apps.get_app_configs()


def write_xlsx(table):
    """The table as an .xlsx temporary file (positioned at its start)."""
    return write(table)[0]


def write(table, progress=None):
    """(.xlsx temporary file, rows written); ``progress(rows_written)`` every ``EXPORT_PROGRESS_EVERY`` rows."""
    every = settings.EXPORT_PROGRESS_EVERY
    with SheetWriter(table.title, table.columns) as sheet:
        for row in table.rows:
            sheet.append(row)
            if progress is not None and sheet.rows % every == 0:
                progress(sheet.rows)
    return sheet.file, sheet.rows


def export_storage():
    """Where export files are kept: the documents storage, never under a public URL."""
    return storages["documents"]


def xlsx_response(handle, filename):
    return FileResponse(handle, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE)


# --- The job's lifecycle -------------------------------------------------------------------


def start(export, *, owner, parameters, rows_total=None, now=None):
    """Create the job for ``export`` (a function registered with ``@source``) and queue its task."""
    now = now or timezone.now()
    found = SOURCES[export.export_kind]
    with transaction.atomic():
        job = ExportJob.objects.create(
            owner=owner,
            kind=found.kind,
            title=found.title,
            parameters=parameters,
            rows_total=rows_total,
            created_at=now,
            expires_at=now + datetime.timedelta(hours=settings.EXPORT_KEEP_HOURS),
        )
        audit.record(
            job,
            "导出Excel",
            actor=owner,
            to_state=ExportStatus.QUEUED.label,
            data={"kind": found.kind, "parameters": parameters, "rows": rows_total},
        )
        # robust: the job exists even when the broker is down; it then stays 排队中 until it expires.
        transaction.on_commit(lambda: _queue(job.pk), robust=True)
    return job


def _queue(job_pk):
    from .tasks import run_export

    run_export.delay(job_pk)


def run(job_pk, *, now=None):
    """Write the job's file (the task's body). Running it again does nothing once it has finished."""
    now = now or timezone.now()
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().filter(pk=job_pk).first()
        if job is None or job.finished:
            return job
        if job.status == ExportStatus.RUNNING and job.heartbeat_at and job.heartbeat_at > now - STALE_AFTER:
            return job  # another worker is writing it
        workflow.check(ExportJob.TRANSITIONS, job.status, ExportStatus.RUNNING, "system")
        job.status = ExportStatus.RUNNING
        job.started_at = job.heartbeat_at = now
        job.rows_done = 0
        job.save(update_fields=["status", "started_at", "heartbeat_at", "rows_done"])

    def progress(rows):
        ExportJob.objects.filter(pk=job.pk, status=ExportStatus.RUNNING).update(
            rows_done=rows, heartbeat_at=timezone.now()
        )

    handle = None
    try:
        table = source_for(job.kind).build(job.owner, job.parameters)
        total = table.count()
        ExportJob.objects.filter(pk=job.pk).update(rows_total=total, heartbeat_at=timezone.now())
        handle, rows = write(table, progress)
        name = export_storage().save(f"exports/{job.public_id}.xlsx", File(handle))
        size = export_storage().size(name)
    except Exception as exc:
        log.exception("export %s (%s) failed", job.pk, job.kind)
        message = str(exc) if isinstance(exc, ExportError) else FAILED_MESSAGE
        return _finish(job.pk, ExportStatus.FAILED, error=message, detail=repr(exc))
    finally:
        if handle is not None:
            handle.close()
    return _finish(job.pk, ExportStatus.DONE, name=name, rows=rows, size=size)


def _finish(job_pk, status, *, name="", rows=None, size=0, error="", detail=""):
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().filter(pk=job_pk).first()
        if job is None or job.status != ExportStatus.RUNNING:
            # Removed meanwhile, or finished by another worker: this run's file is not wanted.
            if name:
                export_storage().delete(name)
            return job
        workflow.check(ExportJob.TRANSITIONS, job.status, status, "system")
        job.status = status
        job.finished_at = timezone.now()
        fields = ["status", "finished_at"]
        if status == ExportStatus.DONE:
            job.file_name = name
            job.rows_done = job.rows_total = rows
            job.file_size = size
            fields += ["file_name", "rows_done", "rows_total", "file_size"]
        else:
            job.error = error
            fields.append("error")
        job.save(update_fields=fields)
        audit.record(
            job,
            "导出完成" if status == ExportStatus.DONE else "导出失败",
            actor=None,
            from_state=ExportStatus.RUNNING.label,
            to_state=job.get_status_display(),
            reason=detail[:500],
            data={"rows": rows} if rows is not None else {},
        )
    return job


def remove_expired(*, now=None):
    """Delete the files and rows of jobs past their time (the beat job; idempotent)."""
    now = now or timezone.now()
    storage = export_storage()
    removed = 0
    while batch := list(ExportJob.objects.expired(now=now).values_list("pk", "file_name")[:500]):
        for _, name in batch:
            if name:
                storage.delete(name)  # the file first: a crash in between leaves a row to retry, never an orphan file
        removed += ExportJob.objects.filter(pk__in=[pk for pk, _ in batch]).delete()[0]
    return removed


def get_export_job_or_404(user, public_id):
    return get_object_or_404(ExportJob.objects.visible_to(user), public_id=public_id)


# --- Pages ---------------------------------------------------------------------------------

app_name = "exports"


@allow(AUTHENTICATED)
def job_page(request, public_id):
    """The job's progress (polled by htmx while it runs) and, once written, its download link."""
    job = get_export_job_or_404(request.user, public_id)
    template = "exports/partials/job_status.html" if request.htmx else "exports/job.html"
    return render(request, template, {"job": job, "poll_seconds": settings.EXPORT_POLL_SECONDS})


@allow(AUTHENTICATED)
def job_download(request, public_id):
    job = get_export_job_or_404(request.user, public_id)
    if job.status != ExportStatus.DONE or not job.file_name:
        raise Http404
    try:
        handle = export_storage().open(job.file_name, "rb")
    except FileNotFoundError:
        raise Http404 from None
    return xlsx_response(handle, job.download_name)


@allow(AUTHENTICATED)
def job_list(request):
    """我的导出: the user's jobs that are still kept."""
    jobs = ExportJob.objects.visible_to(request.user)[:50]
    return render(request, "exports/list.html", {"jobs": jobs, "keep_hours": settings.EXPORT_KEEP_HOURS})


urlpatterns = [
    path("", job_list, name="list"),
    path("<uuid:public_id>/", job_page, name="job"),
    path("<uuid:public_id>/download/", job_download, name="download"),
]
