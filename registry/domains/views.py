"""Domain pages: 域名申请 and 我的域名 (unit), 待审核域名 / 待复审域名 (reviewers),
域名查询 with 删除域名 and 导出Excel (编办, CONAC), and each domain's own page."""

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from conac import confirmation, exports, forms_state
from conac.access import AUTHENTICATED, CONAC, OFFICE, STAFF, UNIT, allow
from conac.audit import history_of
from conac.navigation import back_url
from conac.pagination import BoundedPaginator
from review import services as review
from review.models import CommonReason, Tier

from . import freshness, progress, queue_cells
from . import queries as domain_queries
from . import services as domain_services
from .forms import DeleteDomainsForm, DomainApplicationForm, DomainSearchForm, ReviewDecisionForm
from .models import Domain, DomainStatus

PER_PAGE = 20


def _domain_or_404(user, public_id, queryset=None):
    try:
        public_id = uuid.UUID(str(public_id))
    except ValueError:
        raise Http404 from None
    queryset = queryset if queryset is not None else Domain.objects.all()
    return get_object_or_404(
        queryset.visible_to(user).select_related("unit", "unit__region", "office"), public_id=public_id
    )


@allow(UNIT)
def domain_apply(request):
    """网上名称管理——域名申请: apply, and see every application with its state and 不通过原因."""
    unit = request.user.unit
    form = DomainApplicationForm(request.POST or None, unit=unit)
    if request.method == "POST" and form.is_valid():
        try:
            domain = domain_services.submit_domain_application(
                unit,
                label=form.cleaned_data["label"],
                suffix=form.cleaned_data["suffix"],
                years=form.cleaned_data["years"],
                actor=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"域名“{domain.full_name}”已提交，等待{unit.office.name}审核。")
            return redirect("registry:domain-apply")
    if request.method == "POST":
        return forms_state.redirect_with_form(request, form, reverse("registry:domain-apply"), name="domain-apply")
    form = forms_state.restore(request, DomainApplicationForm, name="domain-apply", unit=unit) or form
    applications = Domain.objects.filter(unit=unit).exclude(status=DomainStatus.DELETED).order_by("-submitted_at")
    return render(
        request, "registry/domain_apply.html", {"form": form, "applications": applications[:200], "unit": unit}
    )


@allow(UNIT)
def domain_resubmit(request, public_id):
    """Edit a rejected application and submit it again (the manual's FAQ 一)."""
    domain = _domain_or_404(request.user, public_id)
    if domain.status != DomainStatus.REJECTED:
        messages.error(request, f"只有审核不通过的申请可以修改后重新提交（当前状态：{domain.get_status_display()}）。")
        return redirect("registry:domain-apply")
    initial = {"label": domain.label, "suffix": domain.suffix, "years": domain.years}
    form = DomainApplicationForm(request.POST or None, unit=domain.unit, exclude_pk=domain.pk, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            domain = domain_services.resubmit_domain_application(
                domain,
                label=form.cleaned_data["label"],
                suffix=form.cleaned_data["suffix"],
                years=form.cleaned_data["years"],
                actor=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        except review.ReviewError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"域名“{domain.full_name}”已重新提交，等待同级编办审核。")
            return redirect("registry:domain-apply")
    if request.method == "POST":
        url = reverse("registry:domain-resubmit", args=[domain.public_id])
        return forms_state.redirect_with_form(request, form, url, name=f"domain-resubmit:{domain.pk}")
    form = (
        forms_state.restore(
            request,
            DomainApplicationForm,
            name=f"domain-resubmit:{domain.pk}",
            unit=domain.unit,
            exclude_pk=domain.pk,
            initial=initial,
        )
        or form
    )
    return render(
        request,
        "registry/domain_resubmit.html",
        {"form": form, "domain": domain, "decisions": review.decisions_of(domain)},
    )


@allow(UNIT)
def my_domains(request):
    """网上名称管理——域名业务管理——我的域名: each domain's state, its next step in words, its actions.

    ``?status=`` (one state) and ``?expiring=30`` narrow the list: 首页's counts link here.
    A fixed number of queries whatever the number of domains.
    """
    unit = request.user.unit
    today = timezone.localdate()
    summary = progress.unit_summary(unit, today)
    domains = Domain.objects.filter(unit=unit)
    status = request.GET.get("status", "")
    if status in DomainStatus.values:
        domains = domains.filter(status=status)
    else:
        status = ""
    expiring = request.GET.get("expiring") == str(progress.EXPIRING_DAYS)
    if expiring:
        domains = domains.filter(progress.expiring_q(today)).order_by("expires_on", "id")
    else:
        domains = domains.order_by("-id")
    page = Paginator(domains, PER_PAGE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    office_name = unit.office.name
    until = progress.expiring_until(today)
    for domain in rows:
        domain.next_step = progress.next_step(domain.status, office_name)
        domain.expiring = domain.status == DomainStatus.ACTIVE and domain.expires_on and domain.expires_on <= until
        if domain.expiring:
            domain.next_step = f"{domain.expires_on:%Y-%m-%d} 到期，请向{office_name}申请续费"
    return render(
        request,
        "registry/my_domains.html",
        {
            "page": page,
            "rows": rows,
            "summary": summary,
            "status": status,
            "expiring": expiring,
            "expiring_days": progress.EXPIRING_DAYS,
        },
    )


@allow(AUTHENTICATED)
def domain_detail(request, public_id):
    """One domain with its review decisions and 办理记录 (anyone whose scope holds it)."""
    domain = _domain_or_404(request.user, public_id)
    return render(
        request,
        "registry/domain_detail.html",
        {"domain": domain, "decisions": review.decisions_of(domain), "history": history_of(domain)},
    )


# --- Review queues --------------------------------------------------------------------


@allow(OFFICE)
def office_queue(request):
    """网上名称管理——待审核域名: the office's own units' applications."""
    return _queue(request, title="待审核域名", flag_overdue=True, form=_kept_decision(request))


@allow(CONAC)
def conac_queue(request):
    """网上名称管理——待复审域名: every application the offices passed."""
    return _queue(request, title="待复审域名", flag_overdue=False, form=_kept_decision(request))


def _queue(request, *, title, flag_overdue, form=None):
    pending = review.queue_for(Domain.objects.all(), request.user)
    pending = pending.select_related("unit", "unit__region", "office").order_by("submitted_at", "id")
    page = BoundedPaginator(pending, PER_PAGE, kept=freshness.COUNTS).get_page(request.GET.get("page"))
    tier = review.tier_of(request.user)
    rows = queue_cells.rows(page.object_list, tier=tier, flag_overdue=flag_overdue)
    return render(
        request,
        "registry/domain_queue.html",
        {
            "title": title,
            "page": page,
            "rows": rows,
            "form": form or ReviewDecisionForm(),
            # A refused submission keeps the reviewer's ticks, so only the 审核意见 needs fixing.
            "checked": set(form.data.getlist("ids")) if form is not None else set(),
            "reasons": list(CommonReason.objects.filter(is_active=True)),
            "tier": tier,
        },
    )


@allow(STAFF)
@require_POST
def review_decide(request):
    """审核通过 / 审核不通过 for the ticked rows, each its own decision."""
    tier = review.tier_of(request.user)
    queue_url = reverse("registry:domain-office-queue" if tier == Tier.OFFICE else "registry:domain-conac-queue")
    form = ReviewDecisionForm(request.POST)
    back = f"{queue_url}?page={request.POST['page']}" if request.POST.get("page", "").isdigit() else queue_url
    if not form.is_valid():
        # PRG: the queue again (a GET) with the ticks and the 审核意见 as typed, and the error.
        return forms_state.redirect_with_form(request, form, back, name="domain-review")
    domains = Domain.objects.visible_to(request.user).filter(public_id__in=form.cleaned_data["ids"])
    if not confirmation.is_confirmed(request):
        names = list(domains.order_by("submitted_at", "id").values_list("label", "suffix"))
        return confirmation.queue_question(
            request, form, [f"{label}{suffix}" for label, suffix in names], measure="个", noun="域名", cancel_url=back
        )
    decided, refused = [], []
    for domain in domains.order_by("submitted_at", "id"):
        try:
            if form.cleaned_data["action"] == "approve":
                review.approve(domain, actor=request.user, opinion=form.cleaned_data["opinion"])
            else:
                review.reject(domain, actor=request.user, opinion=form.cleaned_data["opinion"])
            decided.append(domain.full_name)
        except review.ReviewError as exc:
            refused.append(f"{domain.full_name}：{exc}")
    missing = len(set(form.cleaned_data["ids"])) - len(decided) - len(refused)
    verb = "审核通过" if form.cleaned_data["action"] == "approve" else "审核不通过"
    if decided:
        messages.success(
            request, f"已{verb} {len(decided)} 个域名：{'、'.join(decided[:10])}{' 等' if len(decided) > 10 else ''}"
        )
    for line in refused:
        messages.error(request, line)
    if missing > 0:
        messages.error(request, f"{missing} 个所选域名不存在或不在您的审核范围内。")
    return redirect(queue_url)


def _kept_decision(request):
    """A refused 审核通过 / 审核不通过, kept for the queue's GET (PRG), or None."""
    return forms_state.restore(request, ReviewDecisionForm, name="domain-review")


# --- 域名查询 --------------------------------------------------------------------------


SEARCH_COLUMNS = (
    "public_id", "label", "alabel", "suffix", "status", "years", "registered_on", "expires_on",
    "unit__name", "office__name",
)  # fmt: skip


@allow(STAFF)
def domain_search(request):
    """网上名称管理——域名查询 (编办: its units, and below read-only; CONAC: all)."""
    form = DomainSearchForm(request.GET or None)
    domains = Domain.objects.none()
    searched = form.is_bound and form.is_valid()
    if searched:
        domains = domain_queries.search(domain_queries.visible_domains(request.user), form.cleaned_data)
    elif not form.is_bound:
        domains = domain_queries.visible_domains(request.user).order_by("-id")
    # Counted up to a bound, then estimated (“约 N 条”): no scan of a million rows per page view.
    # Only the columns the table shows (a unit row has some thirty fields).
    domains = domains.select_related("unit", "office").only(*SEARCH_COLUMNS)
    page = BoundedPaginator(domains, PER_PAGE, kept=freshness.COUNTS).get_page(request.GET.get("page"))
    return render(
        request,
        "registry/domain_search.html",
        {
            "form": form,
            "page": page,
            "delete_form": DeleteDomainsForm(),
            "can_delete": request.user.role == "office",
            "today": timezone.localdate(),
        },
    )


@allow(STAFF)
def domain_export(request):
    """导出Excel of the current 域名查询: one page's worth at once, a larger result as an export job."""
    form = DomainSearchForm(request.GET)
    search_url = f"{reverse('registry:domain-search')}?{request.GET.urlencode()}"
    if not form.is_valid():
        messages.error(request, "查询条件有误，请修改后再导出。")
        return redirect(search_url)
    domains = domain_queries.search(domain_queries.visible_domains(request.user), form.cleaned_data)
    count = domains.count()
    if count <= PER_PAGE:
        filename = f"域名查询-{timezone.localdate():%Y%m%d}.xlsx"
        return exports.xlsx_response(domain_queries.export_xlsx(domains), filename)
    # Any size: the task applies the same query in the same scope (visible_to of this user).
    job = exports.start(
        domain_queries.domain_search_export,
        owner=request.user,
        parameters={"query": request.GET.urlencode(), "back": search_url},
        rows_total=count,
    )
    return redirect("exports:job", public_id=job.public_id)


@allow(OFFICE)
@require_POST
def domain_delete(request):
    """删除域名 for the ticked rows, with a reason; the domains stay in history."""
    form = DeleteDomainsForm(request.POST)
    back = back_url(request, "registry:domain-search")
    valid = form.is_valid()
    if "ids" in form.errors:
        # Nothing ticked (“请先勾选要删除的域名。”), as 续费 says it: back to 域名查询.
        for error in form.errors["ids"]:
            messages.error(request, error)
        return redirect(back)
    ticked = Domain.objects.visible_to(request.user).filter(public_id__in=form.cleaned_data["ids"])
    if not valid or not confirmation.is_confirmed(request):
        # The step asks for the 删除原因 too; a confirmation without one is asked again, with the error.
        shown = (
            form
            if confirmation.is_confirmed(request)
            else DeleteDomainsForm(initial={"reason": form.data.get("reason", "")})
        )
        question, details = confirmation.batch_question(
            "删除", [d.full_name for d in ticked.order_by("id")], measure="个", noun="域名"
        )
        return confirmation.ask(
            request,
            question=question,
            details=[*details, "删除后域名为已删除，保留办理记录，不能恢复。"],
            cancel_url=back,
            button="删除域名",
            extra_fields=shown,
            action=reverse("registry:domain-delete"),
        )
    deleted, refused = [], []
    for domain in ticked:
        try:
            domain_services.delete_domain(domain, reason=form.cleaned_data["reason"], actor=request.user)
            deleted.append(domain.full_name)
        except domain_services.DomainError as exc:
            refused.append(str(exc))
    if deleted:
        messages.success(request, f"已删除 {len(deleted)} 个域名：{'、'.join(deleted[:10])}")
    for line in refused:
        messages.error(request, line)
    missing = len(set(form.cleaned_data["ids"])) - len(deleted) - len(refused)
    if missing > 0:
        messages.error(request, f"{missing} 个所选域名不存在或不在您的管理范围内，未删除。")
    return redirect(back)
