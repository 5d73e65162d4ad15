"""Reading applications and badges for the pages; each function a fixed number of queries."""

from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from conac.workdays import WorkdayCalendar
from registry.organisations.validators import credit_code_category

from .models import ApplicationStatus, Badge
from .services import PAPER_DEADLINE_WORKDAYS

REVIEW_DEADLINE_WORKDAYS = 5  # the 编办's online review is due within 5 working days


@dataclass
class QueueRow:
    application: object
    category: str
    waited_workdays: int
    overdue: bool
    deadline: int


def queue_rows(applications, *, today=None):
    """Each waiting application with how many working days it has waited (paper: since CONAC's approval)."""
    today = today or timezone.localdate()
    applications = list(applications)
    if not applications:
        return []
    starts = [a.conac_approved_at or a.submitted_at for a in applications]
    calendar = WorkdayCalendar().load(min(starts), today)
    rows = []
    for application, start in zip(applications, starts, strict=True):
        paper = application.status == ApplicationStatus.AWAITING_PAPER
        deadline = PAPER_DEADLINE_WORKDAYS if paper else REVIEW_DEADLINE_WORKDAYS
        waited = calendar.workdays_between(start, today)
        rows.append(
            QueueRow(
                application=application,
                category=credit_code_category(application.unit.credit_code),
                waited_workdays=waited,
                overdue=waited > deadline,
                deadline=deadline,
            )
        )
    return rows


def badge_script_url(badge):
    """The snippet's script: the code's digits as folders, as CONAC's badge has always been served."""
    digits = badge.code[2:]
    path = f"/js/{digits[0:2]}/{digits[2:5]}/{digits[5:9]}/{digits[9:17]}/{badge.code}.js"
    return settings.BADGE_BASE_URL.rstrip("/") + path


def badge_snippet(badge):
    """What the unit pastes before </body> on every page."""
    return f'<span id="_ideConac"></span><script type="text/javascript" src="{badge_script_url(badge)}"></script>'


def badges_of(unit):
    return list(Badge.objects.filter(unit=unit).select_related("domain").order_by("-issued_at", "-id"))
