"""Money and dates written one way everywhere, and dates read the way people type them (issue 12, item 8)."""

import datetime
import re
import zoneinfo
from decimal import Decimal

import pytest
from django import forms
from django.template import Context, Engine, Template

from billing.forms import RefundForm, RemittanceForm
from billing.money import fmt, yuan_text
from conac import formats
from conac.forms import DateField
from registry.domains.forms import DomainSearchForm

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def render(source, **context):
    return Template(source).render(Context(context))


# --- money -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("1200"), "1,200.00 元"),
        (Decimal("200"), "200.00 元"),
        (Decimal("0"), "0.00 元"),
        (Decimal("1234567.891"), "1,234,567.89 元"),
        (Decimal("0.005"), "0.01 元"),  # half up, the registry's one rounding rule
        (Decimal("-50"), "-50.00 元"),
        (600, "600.00 元"),
        ("1200.5", "1,200.50 元"),
    ],
)
def test_money_is_written_with_grouping_two_places_and_a_spaced_yuan(value, shown):
    assert formats.yuan_text(value) == shown
    assert render("{{ v|yuan }}", v=value) == shown
    assert yuan_text(value) == shown


def test_money_filter_leaves_nothing_for_a_missing_amount():
    assert render("[{{ v|yuan }}]", v=None) == "[]"
    assert render("[{{ v|yuan }}]", v="") == "[]"
    assert render("[{{ v|yuan }}]", v="abc") == "[]"


def test_amount_alone_for_columns_headed_yuan():
    assert render("{{ v|amount }}", v=Decimal("50000")) == "50,000.00"
    assert fmt(Decimal("1200")) == "1,200.00"


def test_money_never_goes_through_a_float():
    # 0.1 + 0.2 as a float is 0.30000000000000004; written from its text it stays 0.30.
    assert formats.yuan_text(0.1 + 0.2) == "0.30 元"
    assert formats.yuan_text(Decimal("2.675")) == "2.68 元"  # float rounding would give 2.67


def test_billing_messages_use_the_one_money_format():
    from billing.models import FeeSchedule

    fee = FeeSchedule(suffix=".政务", price_per_year=Decimal("1200"), valid_from=datetime.date(2026, 1, 1))
    assert "1,200.00 元/年" in str(fee)


# --- dates shown -----------------------------------------------------------------------------


def test_date_is_shown_as_iso_in_a_span_that_never_breaks():
    html = render("{{ d|ymd }}", d=datetime.date(2026, 12, 31))
    assert html == '<span class="text-nowrap">2026-12-31</span>'


def test_datetime_is_shown_in_local_time_without_breaking():
    moment = datetime.datetime(2026, 12, 31, 6, 5, tzinfo=datetime.UTC)  # 14:05 in Beijing
    assert render("{{ t|ymd_hm }}", t=moment) == '<span class="text-nowrap">2026-12-31 14:05</span>'
    assert render("{{ t|ymd }}", t=moment) == '<span class="text-nowrap">2026-12-31</span>'
    late = datetime.datetime(2026, 12, 31, 17, 0, tzinfo=datetime.UTC)  # already 1 January in Beijing
    assert render("{{ t|ymd_text }}", t=late) == "2027-01-01"


def test_plain_text_date_filters_for_attributes_and_sms():
    assert render('<i data-d="{{ d|ymd_text }}">', d=datetime.date(2026, 1, 5)) == '<i data-d="2026-01-05">'
    assert render("{{ t|ymd_hm_text }}", t=datetime.datetime(2026, 1, 5, 9, 0, tzinfo=SHANGHAI)) == "2026-01-05 09:00"


def test_missing_date_leaves_room_for_default():
    assert render('{{ d|ymd|default:"—" }}', d=None) == "—"
    assert render('{{ d|ymd_hm|default:"—" }}', d=None) == "—"


def test_notices_load_the_filters_from_their_own_engine():
    # SMS and email render with a separate plain-text engine that has no builtins.
    from conac.notices import _render

    text = _render(
        "notices/expiry_reminder.sms.txt",
        {
            "unit": {"name": "海淀区测试局"},
            "domain": {"full_name": "测试.政务", "expires_on": datetime.date(2026, 12, 31)},
            "days_left": 30,
            "office": {"name": "海淀区委编办"},
        },
    )
    assert "2026-12-31到期" in text
    assert "<span" not in text and not text.startswith("\n")


def test_no_template_formats_money_or_iso_dates_by_hand():
    """Every page goes through |yuan and |ymd, so a new page cannot drift back to 200.00元 or 1200.00."""
    engine = Engine.get_default()
    offenders = []
    for directory in engine.dirs:
        for path in directory.rglob("*.*"):
            if path.suffix not in (".html", ".txt"):
                continue
            text = path.read_text(encoding="utf-8")
            if "|floatformat:2" in text or re.search(r"\|date:[\"']Y-m-d( H:i)?[\"']", text):
                offenders.append(str(path.relative_to(directory)))
    assert offenders == []


# --- dates typed -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "2026-12-31",
        "2026年12月31日",
        "2026年12月31",
        " 2026 年 12 月 31 日 ",
        "２０２６－１２－３１",  # full-width digits from a Chinese input method
        "２０２６年１２月３１日",
        "2026/12/31",
        "2026.12.31",
        "20261231",
    ],
)
def test_typed_dates_in_both_formats_are_read(typed):
    assert formats.parse_date(typed) == datetime.date(2026, 12, 31)


def test_single_digit_month_and_day():
    assert formats.parse_date("2026-1-5") == datetime.date(2026, 1, 5)
    assert formats.parse_date("2026年1月5日") == datetime.date(2026, 1, 5)


@pytest.mark.parametrize("typed", ["12/31/2026", "31.12.2026", "明天", "2026-12", "2026年12月", "abc", "2026-12-31x"])
def test_other_shapes_get_a_chinese_message_with_both_examples(typed):
    with pytest.raises(ValueError) as error:
        formats.parse_date(typed)
    assert str(error.value) == "请输入有效的日期，例如 2026-12-31 或 2026年12月31日。"


def test_a_date_that_does_not_exist_is_named():
    with pytest.raises(ValueError, match="2026年2月没有30日"):
        formats.parse_date("2026-02-30")
    with pytest.raises(ValueError, match="月份应为1至12"):
        formats.parse_date("2026-13-01")
    assert formats.parse_date("2028年2月29日") == datetime.date(2028, 2, 29)


class OneDate(forms.Form):
    day = DateField(label="日期")


def test_date_field_is_a_text_box_with_the_picker_hook_not_a_locale_date_input():
    html = str(OneDate()["day"])
    assert 'type="text"' in html and 'type="date"' not in html
    assert "data-datepicker" in html
    bound = OneDate(initial={"day": datetime.date(2026, 12, 31)})
    assert 'value="2026-12-31"' in str(bound["day"])


def test_date_field_error_stays_at_the_field_and_the_typed_text_is_kept():
    form = OneDate(data={"day": "2026-02-30"})
    assert not form.is_valid()
    assert form.errors["day"] == ["2026年2月没有30日，请输入有效的日期。"]
    assert 'value="2026-02-30"' in str(form["day"])


@pytest.mark.parametrize(
    ("form_class", "data", "field"),
    [
        (DomainSearchForm, {"expires_from": "2026年1月1日", "expires_to": "2026-12-31"}, "expires_to"),
        (RemittanceForm, {"amount": "200", "remitted_on": "2026年12月31日", "voucher_no": "HK-1"}, "remitted_on"),
        (RefundForm, {"amount": "200", "refunded_on": "2026年12月31日", "voucher_no": "TF-1"}, "refunded_on"),
    ],
)
def test_every_date_field_of_the_system_reads_both_formats(form_class, data, field):
    form = form_class(data=data)
    assert form.is_valid(), form.errors
    assert form.cleaned_data[field] == datetime.date(2026, 12, 31)
    assert 'type="date"' not in str(form[field])


def test_search_filter_with_a_bad_date_says_so_in_chinese():
    form = DomainSearchForm(data={"expires_from": "12/31/2026"})
    assert not form.is_valid()
    assert form.errors["expires_from"] == ["请输入有效的日期，例如 2026-12-31 或 2026年12月31日。"]
