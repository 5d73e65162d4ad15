"""What badges puts on the home pages (``conac.todo``): 网站开办及标识申请审核 waiting for the
reader's tier, and (编办) the applications 待资料确认 with how many are past their deadline."""

from django.db.models import Count, Q
from django.urls import reverse

from conac import todo
from review.services import queue_for

from .models import ApplicationStatus, WebsiteApplication
from .queries import REVIEW_DEADLINE_WORKDAYS
from .services import PAPER_DEADLINE_WORKDAYS


def _late_note(late, deadline, what="个"):
    return f"其中 {late} {what}已超过 {deadline} 个工作日" if late else ""


def office_items(user, today):
    """编办: applications to review (past 5 working days flagged) and paper to confirm (past 10)."""
    review_late = todo.overdue_before(REVIEW_DEADLINE_WORKDAYS, today)
    paper_late = todo.overdue_before(PAPER_DEADLINE_WORKDAYS, today)
    queue = queue_for(WebsiteApplication.objects.all(), user).aggregate(
        n=Count("id"), late=Count("id", filter=Q(submitted_at__lt=review_late))
    )
    # The queue page counts the paper step from CONAC's approval (badges.queries.queue_rows).
    paper = WebsiteApplication.objects.filter(
        office_id=user.office_id, status=ApplicationStatus.AWAITING_PAPER
    ).aggregate(n=Count("id"), late=Count("id", filter=Q(conac_approved_at__lt=paper_late)))
    page = reverse("badges:review-queue")
    return [
        todo.Item(
            label="网站开办及标识申请待审核",
            count=queue["n"],
            measure="份",
            url=page,
            note=_late_note(queue["late"], REVIEW_DEADLINE_WORKDAYS, "份"),
            urgent=bool(queue["late"]),
            order=50,
        ),
        todo.Item(
            label="待资料确认",
            count=paper["n"],
            measure="份",
            url=f"{page}#paper-queue",
            note=_late_note(paper["late"], PAPER_DEADLINE_WORKDAYS, "份") or "单位报送纸质申请函和申请表后，资料确认",
            urgent=bool(paper["late"]),
            order=60,
        ),
    ]


def conac_items(user, today):
    """CONAC: website-opening and badge applications waiting for 复审."""
    count = queue_for(WebsiteApplication.objects.all(), user).count()
    return [
        todo.Item(
            label="网站开办及标识申请审核",
            count=count,
            measure="份",
            url=reverse("badges:review-queue"),
            note="待复审" if count else "",
            order=40,
        )
    ]


def register():
    todo.register("office", office_items)
    todo.register("conac", conac_items)
