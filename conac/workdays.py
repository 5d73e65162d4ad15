"""China's working-day calendar, used by every deadline that counts working days.

The official calendar has make-up working days (调休): 2025-09-28 is a working
Sunday and 2025-10-08 a holiday Wednesday, so Monday–Friday is wrong around
every long holiday. ``chinesecalendar`` knows the published years; for a year it
does not know yet we fall back to Monday–Friday and say so in the log, and the
administrator's ``WorkdayException`` rows win over both.

The module functions cost one query each. A page that needs many answers (a
queue computing how long 50 items have waited) builds one ``WorkdayCalendar``,
calls ``load()`` once for the whole span, and asks it without further queries.
There is no cache across calls, so an administrator's edit counts at once.
"""

import datetime
import functools
import logging

import chinese_calendar
from django.utils import timezone

from .models import WorkdayException

logger = logging.getLogger(__name__)

# The longest official run of days off is 9 (Spring Festival with its weekends);
# a window this wide finds the next working day with the first query.
_LOOKAHEAD_DAYS = 31

_years_warned = set()


def is_workday(day):
    """Whether ``day`` (a date, or a datetime read in China's time) is a working day."""
    return WorkdayCalendar().is_workday(day)


def add_workdays(day, n):
    """The ``n``-th working day after ``day`` (``day`` itself is not counted; n ≥ 1).

    A domain paid for (认款) on 2025-09-30 becomes active on 2025-10-09, the first
    working day after the National Day holiday.
    """
    return WorkdayCalendar().add_workdays(day, n)


def workdays_between(start, end):
    """The working days after ``start`` up to and including ``end``; 0 if end ≤ start."""
    return WorkdayCalendar().workdays_between(start, end)


class WorkdayCalendar:
    """The calendar with the administrator's exceptions for a span of days loaded.

    Asking about a day outside the loaded span loads the wider span first, with
    one query, so answers are always right; ``load()`` up front keeps it to one.
    """

    def __init__(self):
        self._exceptions = {}
        self._loaded_from = None
        self._loaded_to = None

    def load(self, start, end):
        """Fetch the exceptions from ``start`` to ``end`` inclusive, unless already loaded."""
        start, end = as_date(start), as_date(end)
        if end < start:
            start, end = end, start
        if self._loaded_from is not None:
            if self._loaded_from <= start and end <= self._loaded_to:
                return self
            start, end = min(start, self._loaded_from), max(end, self._loaded_to)
        self._exceptions = dict(
            WorkdayException.objects.filter(date__range=(start, end)).values_list("date", "is_workday")
        )
        self._loaded_from, self._loaded_to = start, end
        return self

    def is_workday(self, day):
        day = as_date(day)
        self.load(day, day)
        return self._is_workday_loaded(day)

    def add_workdays(self, day, n):
        if n < 1:
            raise ValueError("n must be at least 1")
        day = as_date(day)
        window_end = day + datetime.timedelta(days=2 * n + _LOOKAHEAD_DAYS)
        self.load(day, window_end)
        while True:
            day += datetime.timedelta(days=1)
            if day > window_end:
                # Only an administrator's long run of holidays gets here.
                window_end = day + datetime.timedelta(days=2 * n + _LOOKAHEAD_DAYS)
                self.load(day, window_end)
            if self._is_workday_loaded(day):
                n -= 1
                if n == 0:
                    return day

    def workdays_between(self, start, end):
        start, end = as_date(start), as_date(end)
        if end <= start:
            return 0
        self.load(start + datetime.timedelta(days=1), end)
        days = (end - start).days
        return sum(1 for offset in range(1, days + 1) if self._is_workday_loaded(start + datetime.timedelta(offset)))

    def _is_workday_loaded(self, day):
        if day in self._exceptions:
            return self._exceptions[day]
        official = _official_is_workday(day)
        if official is None:
            _warn_unknown_year(day.year)
            return day.weekday() < 5
        return official


def as_date(value):
    """A date as China counts it: an aware datetime is read in Asia/Shanghai first.

    An item submitted at 2025-10-09 01:00 Beijing time is stored as 2025-10-08
    17:00 UTC; taking ``.date()`` of that would count from the wrong day.
    """
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.date()
    return value


@functools.lru_cache(maxsize=8192)
def _official_is_workday(day):
    """The package's answer, or None for a year it does not know (its data never changes in a process)."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return None


def _warn_unknown_year(year):
    if year in _years_warned:
        return
    _years_warned.add(year)
    logger.warning(
        "chinesecalendar 不包含 %s 年的节假日安排：按周一至周五加“工作日调整”表计算工作日。"
        "请在后台录入该年的放假与调休安排，或升级 chinesecalendar。",
        year,
    )
