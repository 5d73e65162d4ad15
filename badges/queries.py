"""Reading applications and badges for the pages; each function a fixed number of queries."""

from dataclasses import dataclass

from django.utils import timezone
from django.utils.html import escape

from conac.workdays import WorkdayCalendar
from registry.organisations.validators import credit_code_category, kind_mismatch

from .hotpath import paths
from .hotpath.assets import LOOKS
from .hotpath.entries import family_of
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
    # The credit code's category disagrees with the declared 单位类型 (for the reviewer to check).
    kind_note: str = ""


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
                kind_note=kind_mismatch(application.unit.credit_code, application.unit.kind),
                waited_workdays=waited,
                overdue=waited > deadline,
                deadline=deadline,
            )
        )
    return rows


def badge_script_url(badge):
    """The snippet's script: the code's digits as folders, as CONAC's badge has always been served."""
    return paths.public_url(paths.script_path(badge.code))


def badge_image_url(badge):
    """The no-JavaScript snippet's image: the badge, or its error variant once revoked."""
    return paths.public_url(paths.image_path(badge.code))


def certificate_url(badge):
    """The public 标识证书 page (its id is opaque: not derivable from the code)."""
    return paths.public_url(paths.certificate_path(badge.certificate_id))


def badge_snippet(badge):
    """What the unit pastes before </body> on every page."""
    return f'<span id="_ideConac"></span><script type="text/javascript" src="{badge_script_url(badge)}"></script>'


def badge_static_snippet(badge):
    """The snippet for pages that run no JavaScript: a link to the 标识证书 around the badge image.

    It cannot check the page's host (the certificate page warns its visitor instead, from
    the ``Referer``); the image turns into the error variant when the badge is revoked.
    """
    alt = LOOKS[family_of(badge.kind, badge.unit.kind)].alt
    # A plain string, like badge_snippet: the page shows it as text to copy.
    return (
        f'<a href="{escape(certificate_url(badge))}" target="_blank" rel="noopener" referrerpolicy="origin">'
        f'<img src="{escape(badge_image_url(badge))}" width="80" height="80" alt="{escape(alt)}"></a>'
    )


def badges_of(unit):
    return list(Badge.objects.filter(unit=unit).select_related("domain", "unit").order_by("-issued_at", "-id"))
