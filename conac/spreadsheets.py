"""Excel exports: one writer for every export, safe with user text, flat in memory.

User text is written as text, never as a formula: a cell that starts with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return is prefixed with an apostrophe, as OWASP
recommends for CSV/formula injection, and written with ``write_string`` so no
spreadsheet program evaluates it. Numbers, dates and times stay typed.

xlsxwriter's constant-memory mode writes each row to a temporary file as it comes, so an
export of any size holds one row in memory.
"""

import datetime
import decimal
import tempfile

import xlsxwriter

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text):
    """User text made inert for spreadsheet programs (the OWASP rule)."""
    if text and text[0] in FORMULA_TRIGGERS:
        return "'" + text
    return text


class SheetWriter:
    """``with SheetWriter("域名查询", columns) as sheet: sheet.append(row)``; ``sheet.file`` is the .xlsx."""

    def __init__(self, title, columns):
        self.file = tempfile.TemporaryFile()
        self.workbook = xlsxwriter.Workbook(
            self.file, {"constant_memory": True, "in_memory": False, "default_date_format": "yyyy-mm-dd"}
        )
        self.sheet = self.workbook.add_worksheet(title[:31])
        self.date_format = self.workbook.add_format({"num_format": "yyyy-mm-dd"})
        self.datetime_format = self.workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        self.row = 0
        self.sheet.set_column(0, len(columns) - 1, 18)
        self.append(columns)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.file.close()
            return False
        self.workbook.close()
        self.file.seek(0)
        return False

    def append(self, values):
        write = self.sheet
        for column, value in enumerate(values):
            if value is None or value == "":
                continue
            if isinstance(value, bool):
                write.write_boolean(self.row, column, value)
            elif isinstance(value, (int, float, decimal.Decimal)):
                write.write_number(self.row, column, float(value))
            elif isinstance(value, datetime.datetime):
                write.write_datetime(self.row, column, value.replace(tzinfo=None), self.datetime_format)
            elif isinstance(value, datetime.date):
                write.write_datetime(self.row, column, value, self.date_format)
            else:
                write.write_string(self.row, column, neutralise(str(value)))
        self.row += 1
