"""China's working-day calendar: make-up working days, the administrator's
exceptions, and the Monday–Friday fallback for a year the package does not know."""

import datetime
import logging
from datetime import date

import pytest
from django.urls import reverse

from conac import workdays
from conac.models import WorkdayException
from conac.workdays import WorkdayCalendar, add_workdays, is_workday, workdays_between

pytestmark = pytest.mark.django_db

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))


@pytest.fixture
def fresh_warnings(monkeypatch):
    """Each test sees the once-per-year warning afresh."""
    monkeypatch.setattr(workdays, "_years_warned", set())


def _days(start, end):
    day = start
    while day <= end:
        yield day
        day += datetime.timedelta(days=1)


# --- 2025 National Day and Mid-Autumn Festival --------------------------------------


def test_national_day_2025_holiday_and_make_up_days():
    assert is_workday(date(2025, 9, 26)) is True  # Friday
    assert is_workday(date(2025, 9, 27)) is False  # Saturday
    assert is_workday(date(2025, 9, 28)) is True  # Sunday, made up for the holiday
    for day in _days(date(2025, 10, 1), date(2025, 10, 8)):
        assert is_workday(day) is False, day
    assert is_workday(date(2025, 10, 9)) is True  # Thursday
    assert is_workday(date(2025, 10, 11)) is True  # Saturday, made up for the holiday
    assert is_workday(date(2025, 10, 12)) is False  # Sunday


def test_activation_after_renkuan_on_the_eve_of_national_day():
    # 认款 on Tuesday 30 September: the domain goes live after the holiday, not on 1 October.
    assert add_workdays(date(2025, 9, 30), 1) == date(2025, 10, 9)
    assert add_workdays(date(2025, 9, 30), 2) == date(2025, 10, 10)
    # Saturday 11 October is a working day, so the third is not Monday 13th.
    assert add_workdays(date(2025, 9, 30), 3) == date(2025, 10, 11)
    assert add_workdays(date(2025, 9, 30), 4) == date(2025, 10, 13)


def test_add_workdays_from_a_weekend_counts_the_make_up_sunday():
    # From Saturday 27 September the next working day is Sunday 28th, not Monday 29th.
    assert add_workdays(date(2025, 9, 27), 1) == date(2025, 9, 28)
    assert add_workdays(date(2025, 9, 27), 5) == date(2025, 10, 10)


def test_workdays_between_across_the_national_day_holiday():
    # After 26 Sep up to 12 Oct: 28, 29, 30 Sep, then 9, 10, 11 Oct.
    assert workdays_between(date(2025, 9, 26), date(2025, 10, 12)) == 6
    # A queue item that arrived on 30 Sep has waited only 2 working days on 10 Oct.
    assert workdays_between(date(2025, 9, 30), date(2025, 10, 10)) == 2
    assert workdays_between(date(2025, 10, 1), date(2025, 10, 8)) == 0


def test_workdays_between_is_zero_when_end_is_not_after_start():
    assert workdays_between(date(2025, 10, 9), date(2025, 10, 9)) == 0
    assert workdays_between(date(2025, 10, 10), date(2025, 10, 9)) == 0


# --- Spring Festival 2026 and plain weeks ------------------------------------------


def test_spring_festival_2026():
    # 2026: 15–23 February off; Saturdays 14 and 28 February are make-up working days.
    assert is_workday(date(2026, 2, 14)) is True
    for day in _days(date(2026, 2, 15), date(2026, 2, 23)):
        assert is_workday(day) is False, day
    assert is_workday(date(2026, 2, 24)) is True
    assert is_workday(date(2026, 2, 28)) is True
    assert add_workdays(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert add_workdays(date(2026, 2, 14), 1) == date(2026, 2, 24)
    assert workdays_between(date(2026, 2, 13), date(2026, 3, 1)) == 6  # 14, 24–28 Feb


def test_a_plain_week():
    # 10–16 November 2025: an ordinary Monday to Sunday.
    week = [is_workday(day) for day in _days(date(2025, 11, 10), date(2025, 11, 16))]
    assert week == [True, True, True, True, True, False, False]
    assert workdays_between(date(2025, 11, 9), date(2025, 11, 16)) == 5


def test_add_workdays_across_a_plain_weekend():
    assert add_workdays(date(2025, 11, 14), 1) == date(2025, 11, 17)  # Friday → Monday
    assert add_workdays(date(2025, 11, 15), 1) == date(2025, 11, 17)  # Saturday → Monday
    assert add_workdays(date(2025, 11, 13), 5) == date(2025, 11, 20)  # Thursday → next Thursday


def test_add_workdays_needs_a_positive_count():
    with pytest.raises(ValueError):
        add_workdays(date(2025, 11, 14), 0)


def test_datetimes_are_read_in_china_time():
    # 2025-10-09 01:00 in Beijing is still 8 October in UTC: a holiday there, a working day here.
    early_thursday = datetime.datetime(2025, 10, 8, 17, 0, tzinfo=datetime.UTC)
    assert is_workday(early_thursday) is True
    assert workdays_between(early_thursday, datetime.datetime(2025, 10, 10, 9, 0, tzinfo=SHANGHAI)) == 1
    assert add_workdays(early_thursday, 1) == date(2025, 10, 10)


# --- The administrator's exceptions --------------------------------------------------


def test_an_exception_makes_a_holiday_a_working_day():
    WorkdayException.objects.create(date=date(2025, 10, 8), is_workday=True, note="单位值班")
    assert is_workday(date(2025, 10, 8)) is True
    assert add_workdays(date(2025, 9, 30), 1) == date(2025, 10, 8)
    assert workdays_between(date(2025, 9, 30), date(2025, 10, 10)) == 3


def test_an_exception_makes_a_working_day_a_holiday():
    WorkdayException.objects.create(date=date(2025, 10, 9), is_workday=False, note="临时停止受理")
    assert is_workday(date(2025, 10, 9)) is False
    assert add_workdays(date(2025, 9, 30), 1) == date(2025, 10, 10)
    assert workdays_between(date(2025, 9, 30), date(2025, 10, 10)) == 1


def test_an_administrators_edit_takes_effect_at_once():
    assert is_workday(date(2025, 11, 14)) is True
    exception = WorkdayException.objects.create(date=date(2025, 11, 14), is_workday=False)
    assert is_workday(date(2025, 11, 14)) is False
    exception.is_workday = True
    exception.save()
    assert is_workday(date(2025, 11, 15)) is False
    WorkdayException.objects.create(date=date(2025, 11, 15), is_workday=True)
    assert add_workdays(date(2025, 11, 14), 1) == date(2025, 11, 15)
    WorkdayException.objects.filter(date=date(2025, 11, 15)).delete()
    assert add_workdays(date(2025, 11, 14), 1) == date(2025, 11, 17)


def test_a_long_run_of_administrator_holidays_is_crossed():
    # Beyond the first window of days fetched: every day for 60 days made a holiday.
    start = date(2025, 11, 3)
    WorkdayException.objects.bulk_create(
        WorkdayException(date=start + datetime.timedelta(days=offset), is_workday=False) for offset in range(1, 61)
    )
    # Past the exceptions, 3 January 2026 is still New Year's holiday and Sunday 4th a make-up day.
    assert add_workdays(start, 1) == date(2026, 1, 4)


# --- A year the package does not know ----------------------------------------------


def test_unknown_year_falls_back_to_monday_to_friday_and_warns_once(caplog, fresh_warnings):
    caplog.set_level(logging.WARNING, logger="conac.workdays")
    # 1 October 2031 is a Wednesday; without published data it counts as a working day.
    assert is_workday(date(2031, 10, 1)) is True
    assert is_workday(date(2031, 10, 4)) is False  # Saturday
    assert add_workdays(date(2031, 10, 3), 1) == date(2031, 10, 6)  # Friday → Monday
    assert workdays_between(date(2031, 9, 28), date(2031, 10, 5)) == 5
    warnings = [r for r in caplog.records if r.name == "conac.workdays" and r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "2031" in warnings[0].getMessage()


def test_unknown_year_uses_the_administrators_exceptions(caplog, fresh_warnings):
    caplog.set_level(logging.WARNING, logger="conac.workdays")
    WorkdayException.objects.bulk_create(
        [
            WorkdayException(date=day, is_workday=False, note="国庆节")
            for day in _days(date(2031, 10, 1), date(2031, 10, 7))
        ]
        + [WorkdayException(date=date(2031, 9, 28), is_workday=True, note="国庆调休")]
    )
    assert is_workday(date(2031, 9, 28)) is True  # a Sunday made a working day
    assert is_workday(date(2031, 10, 1)) is False
    assert add_workdays(date(2031, 9, 30), 1) == date(2031, 10, 8)
    assert workdays_between(date(2031, 9, 26), date(2031, 10, 8)) == 4  # 28, 29, 30 Sep and 8 Oct
    assert any("2031" in r.getMessage() for r in caplog.records if r.name == "conac.workdays")


def test_each_unknown_year_is_warned_about_separately(caplog, fresh_warnings):
    caplog.set_level(logging.WARNING, logger="conac.workdays")
    # Crossing from 2030 into 2031: one warning for each year.
    assert workdays_between(date(2030, 12, 20), date(2031, 1, 10)) == 15
    assert is_workday(date(2031, 3, 3)) is True
    years = sorted(r.args[0] for r in caplog.records if r.name == "conac.workdays")
    assert years == [2030, 2031]


def test_known_years_log_nothing(caplog, fresh_warnings):
    caplog.set_level(logging.WARNING, logger="conac.workdays")
    workdays_between(date(2025, 1, 1), date(2026, 12, 31))
    assert [r for r in caplog.records if r.name == "conac.workdays"] == []


# --- Queries ------------------------------------------------------------------------


def test_each_call_is_one_query(django_assert_num_queries):
    with django_assert_num_queries(1):
        workdays_between(date(2025, 1, 1), date(2025, 12, 31))
    with django_assert_num_queries(1):
        add_workdays(date(2025, 9, 30), 10)
    with django_assert_num_queries(1):
        is_workday(date(2025, 10, 9))


def test_a_queue_page_loads_the_exceptions_once(django_assert_num_queries):
    WorkdayException.objects.create(date=date(2025, 10, 8), is_workday=True)
    today = date(2025, 10, 20)
    arrivals = [date(2025, 9, 1) + datetime.timedelta(days=offset) for offset in range(50)]
    with django_assert_num_queries(1):
        calendar = WorkdayCalendar().load(min(arrivals), today)
        waited = [calendar.workdays_between(arrived, today) for arrived in arrivals]
    assert waited == [workdays_between(arrived, today) for arrived in arrivals]
    assert waited[arrivals.index(date(2025, 9, 30))] == 10  # 8 (the exception), 9, 10, 11, 13–17, 20 Oct
    assert waited[arrivals.index(date(2025, 10, 13))] == 5  # 14–17 and 20 Oct


# --- Admin -----------------------------------------------------------------------------


def test_administrators_list_and_search_exceptions(admin_client):
    WorkdayException.objects.create(date=date(2031, 10, 1), is_workday=False, note="国庆节")
    WorkdayException.objects.create(date=date(2031, 9, 28), is_workday=True, note="国庆调休上班")
    url = reverse("admin:conac_workdayexception_changelist")
    page = admin_client.get(url, {"q": "调休"})
    assert page.status_code == 200
    assert "国庆调休上班" in page.content.decode()
    assert "国庆节" not in page.content.decode().replace("国庆调休上班", "")
    by_date = admin_client.get(url, {"q": "2031-10"}).content.decode()
    assert "国庆节" in by_date
    assert "国庆调休上班" not in by_date
    holidays_only = admin_client.get(url, {"is_workday__exact": "0"}).content.decode()
    assert "国庆节" in holidays_only
    assert "国庆调休上班" not in holidays_only
