"""首页的待办: each role's home page is its to-do list, composed from what the apps contribute.

The project package imports no app (DESIGN §3), so it only keeps the list of contributors:
each app registers its own from ``AppConfig.ready`` (``register(role, provider, order=...)``),
the way features add themselves to the menus in ``conac.access``. A provider takes the user and
today's date and returns groups of items (a count that links to the page showing exactly those
rows) and charts (bars that link to the filtered list). A provider must cost a fixed number of
queries whatever the data: the home page's query count is pinned by a test.
"""

import datetime
from dataclasses import dataclass, field

from .workdays import WorkdayCalendar

# role → [(order, provider)]
_PROVIDERS = {}


def register(role, provider):
    """Add ``provider(user, today) -> [Item | Chart]`` to ``role``'s home page (once)."""
    entries = _PROVIDERS.setdefault(role, [])
    if provider not in entries:
        entries.append(provider)


def providers_for(role):
    return list(_PROVIDERS.get(role, []))


@dataclass
class Item:
    """One line of the to-do list: how many, of what, and where to see exactly those."""

    label: str
    count: int
    url: str
    measure: str = "个"  # 个 / 笔 / 份 / 家
    note: str = ""  # e.g. "其中 3 个已超过 5 个工作日", "共 1,200.00 元"
    note_url: str = ""
    urgent: bool = False  # something is late: shown in red
    hint: str = ""  # the next step, in words (units)
    section: str = "待办事项"
    order: int = 100  # place on the page: items from several apps interleave by it


@dataclass
class Bar:
    label: str  # 北京市
    value: float  # the bar's length, in the chart's measure
    text: str  # what is written beside it: "12 个", "1,200.00 元"
    url: str  # the filtered list behind the bar
    # Where it is drawn (set by its Chart): the name and figure on one line, the bar under it.
    percent: str = "0"  # of the chart's width, so the chart narrows with the window, not its text
    text_y: int = 0
    bar_y: int = 0


@dataclass
class Chart:
    """A small horizontal bar chart, drawn as SVG on the server; every bar is a link with its label.

    The SVG has no viewBox: it is as wide as its card and the bars are percentages of that width,
    so the writing stays at its size on a phone instead of shrinking with the drawing.
    """

    title: str
    bars: list
    caption: str = ""
    empty_text: str = "各省均为零"
    row_height: int = 38
    bar_height: int = 14

    def __post_init__(self):
        self.bars = [bar for bar in self.bars if bar.value]
        top = max((bar.value for bar in self.bars), default=0)
        for index, bar in enumerate(self.bars):
            # A non-zero bar is always visible, however small beside the largest one.
            share = 100 * float(bar.value) / float(top) if top else 0
            bar.percent = f"{max(1.0, share):.1f}"
            bar.text_y = index * self.row_height + 14
            bar.bar_y = index * self.row_height + 20

    @property
    def height(self):
        return max(1, len(self.bars)) * self.row_height


@dataclass
class HomePage:
    sections: list = field(default_factory=list)  # [(title, [Item, ...]), ...]
    charts: list = field(default_factory=list)


def home_page_for(user, today=None):
    """What every provider registered for ``user``'s role contributes: items by section, then charts."""
    from django.utils import timezone

    today = today or timezone.localdate()
    items, charts = [], []
    for provider in providers_for(getattr(user, "role", None)):
        for block in provider(user, today):
            (charts if isinstance(block, Chart) else items).append(block)
    sections = {}
    for item in sorted(items, key=lambda item: item.order):
        sections.setdefault(item.section, []).append(item)
    return HomePage(sections=list(sections.items()), charts=charts)


def overdue_before(deadline_workdays, today):
    """The first moment (China's time) of the day after the last one that is now overdue.

    A submission is overdue once more than ``deadline_workdays`` working days have passed
    since the day it came in, the way the queues count (``workdays_between(submitted, today)``):
    anything submitted before the returned datetime is overdue. One query (the calendar).
    """
    from django.utils import timezone

    span = 4 * deadline_workdays + 31  # long holidays included
    calendar = WorkdayCalendar().load(today - datetime.timedelta(days=span), today)
    counted, day = 0, today
    while counted <= deadline_workdays:
        if calendar.is_workday(day):
            counted += 1
        day -= datetime.timedelta(days=1)
    # ``day`` is the last date with deadline+1 working days after it up to today.
    start = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min)
    return timezone.make_aware(start, timezone.get_current_timezone())
