"""Badge pages: 网站开办审核/资质复核申请 and 标识申请 (unit), 网站开办及标识申请审核 (编办, CONAC)
with 资料确认, 标识管理 (unit), the 申请函 / 申请表 / 标识证书 documents, 网络红页 (unit; public)."""

import uuid

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from conac import confirmation, forms_state
from conac.access import AUTHENTICATED, CONAC, OFFICE, PUBLIC, STAFF, UNIT, allow
from conac.audit import history_of
from conac.pdf import render_pdf
from registry.dns.forwarding import not_found
from review import services as review
from review.models import CommonReason, Tier

from . import queries, redpages, services
from .forms import ApplicationForm, DecisionForm, PaperForm, RedPageForm
from .models import ApplicationKind, ApplicationStatus, Badge, BadgeStatus, WebsiteApplication

PER_PAGE = 20
FAMILIES = {
    # family → (page title, the kinds it holds, its URL name)
    "website": (
        "网站开办审核/资质复核申请",
        [ApplicationKind.OPENING, ApplicationKind.RECHECK],
        "badges:website-apply",
    ),
    "badge": ("网上名称管理——标识申请", [ApplicationKind.BADGE], "badges:badge-apply"),
}


def _uuid_or_404(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise Http404 from None


def _application_or_404(user, public_id):
    return get_object_or_404(
        WebsiteApplication.objects.visible_to(user).select_related(
            "unit", "unit__region", "office", "domain", "unit__account"
        ),
        public_id=_uuid_or_404(public_id),
    )


def _apply_page(request, family):
    unit = request.user.unit
    title, kinds, _ = FAMILIES[family]
    refusal = None
    try:
        services.check_eligible(unit, kinds[0])
    except services.ApplicationError as exc:
        refusal = exc
    applications = WebsiteApplication.objects.filter(unit=unit, kind__in=kinds).select_related(
        "domain", "badge", "confirmed_badge"
    )
    return render(
        request,
        "badges/apply.html",
        {
            "title": title,
            "family": family,
            "refusal": refusal,
            "refusal_url": reverse(refusal.link_name) if refusal and refusal.link_name else None,
            "applications": applications.order_by("-submitted_at")[:100],
        },
    )


@allow(UNIT)
def website_apply(request):
    """网站开办审核/资质复核申请 (党政机关): 申请说明, the unit's applications, 点击申请."""
    return _apply_page(request, "website")


@allow(UNIT)
def badge_apply(request):
    """网上名称管理——标识申请 (事业单位/社会组织): the same shape."""
    return _apply_page(request, "badge")


def _initial_contact(unit):
    return {
        "contact_name": unit.contact,
        "contact_mobile": unit.contact_mobile_display,
        "contact_email": unit.contact_email,
    }


@allow(UNIT)
def application_new(request, family):
    """点击申请: the form; 提交申请 → 待审核."""
    if family not in FAMILIES:
        raise Http404
    unit = request.user.unit
    title, kinds, back = FAMILIES[family]
    try:
        services.check_eligible(unit, kinds[0])
    except services.ApplicationError as exc:
        messages.error(request, str(exc))
        return redirect(back)
    form = ApplicationForm(
        request.POST or None,
        kinds=kinds,
        domains=services.live_domains_for(unit, kinds[0]),
        initial={**_initial_contact(unit), "kind": kinds[0]},
    )
    if request.method == "POST" and form.is_valid():
        try:
            application = services.submit_application(unit, actor=request.user, **form.cleaned_data)
        except services.ApplicationError as exc:
            form.add_error(exc.field, str(exc))
        else:
            messages.success(request, f"{application.get_kind_display()}已提交，等待{unit.office.name}审核。")
            return redirect(back)
    if request.method == "POST":
        url = reverse("badges:application-new", args=[family])
        return forms_state.redirect_with_form(request, form, url, name=f"application-new:{family}")
    form = (
        forms_state.restore(
            request,
            ApplicationForm,
            name=f"application-new:{family}",
            kinds=kinds,
            domains=services.live_domains_for(unit, kinds[0]),
            initial={**_initial_contact(unit), "kind": kinds[0]},
        )
        or form
    )
    return render(request, "badges/application_form.html", {"title": title, "form": form, "back": back})


@allow(UNIT)
def application_resubmit(request, public_id):
    """审核不通过: the unit edits the application and submits it again."""
    application = _application_or_404(request.user, public_id)
    title, kinds, back = FAMILIES["badge" if application.kind == ApplicationKind.BADGE else "website"]
    if application.status != ApplicationStatus.REJECTED:
        messages.error(
            request, f"只有审核不通过的申请可以修改后重新提交（当前状态：{application.get_status_display()}）。"
        )
        return redirect(back)
    fields = [f for f in services.FIELDS if f not in ("kind",)]
    initial = {f: getattr(application, f) for f in fields}
    initial["contact_mobile"] = application.contact_mobile.replace("+86", "")
    initial["kind"] = application.kind
    form = ApplicationForm(
        request.POST or None,
        kinds=[ApplicationKind(application.kind)],
        domains=services.live_domains_for(application.unit, application.kind),
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "kind"}
        try:
            services.resubmit_application(application, actor=request.user, **data)
        except (services.ApplicationError, review.ReviewError) as exc:
            form.add_error(getattr(exc, "field", None), str(exc))
        else:
            messages.success(request, "申请已重新提交，等待同级编办审核。")
            return redirect(back)
    if request.method == "POST":
        url = reverse("badges:application-resubmit", args=[application.public_id])
        return forms_state.redirect_with_form(request, form, url, name=f"application-resubmit:{application.pk}")
    form = (
        forms_state.restore(
            request,
            ApplicationForm,
            name=f"application-resubmit:{application.pk}",
            kinds=[ApplicationKind(application.kind)],
            domains=services.live_domains_for(application.unit, application.kind),
            initial=initial,
        )
        or form
    )
    return render(
        request,
        "badges/application_form.html",
        {"title": title, "form": form, "back": back, "application": application,
         "decisions": review.decisions_of(application)},
    )  # fmt: skip


@allow(AUTHENTICATED)
def application_detail(request, public_id):
    """Everything the reviewer checks (单位资质, 联系人, 网站名称, 域名名称) and the history."""
    application = _application_or_404(request.user, public_id)
    user = request.user
    can_paper = (
        user.role == "office"
        and application.office_id == user.office_id
        and application.status == ApplicationStatus.AWAITING_PAPER
    )
    return render(
        request,
        "badges/application_detail.html",
        {
            "application": application,
            "unit": application.unit,
            "decisions": review.decisions_of(application),
            "history": history_of(application),
            "badge": Badge.objects.filter(application=application).first(),
            "can_paper": can_paper,
            "paper_form": forms_state.restore(request, PaperForm, name=f"paper:{application.pk}") or PaperForm(),
            "can_download": _may_download(user, application),
        },
    )


def _may_download(user, application):
    """The paper documents go to the unit and its office only."""
    if not application.needs_paper or application.status not in (
        ApplicationStatus.AWAITING_PAPER,
        ApplicationStatus.ISSUED,
        ApplicationStatus.PAPER_MISMATCH,
    ):
        return False
    return (user.role == "unit" and user.unit_id == application.unit_id) or (
        user.role == "office" and user.office_id == application.office_id
    )


@allow(AUTHENTICATED)
def application_document(request, public_id, document):
    """打印申请函 / 打印申请表: the stored PDF (made now if the task has not run yet)."""
    application = _application_or_404(request.user, public_id)
    if document not in ("letter", "form") or not _may_download(request.user, application):
        raise Http404
    field = application.letter_pdf if document == "letter" else application.form_pdf
    if not field:
        services.generate_documents(application.pk)
        application.refresh_from_db()
        field = application.letter_pdf if document == "letter" else application.form_pdf
    name = "关于申请对网站开办审核和资格复核的函" if document == "letter" else "党政机关网站开办审核和资格复核申请表"
    return FileResponse(
        field.open("rb"),
        as_attachment=True,
        filename=f"{name}-{application.site_name}.pdf",
        content_type="application/pdf",
    )


# --- 网站开办及标识申请审核 ----------------------------------------------------------------


@allow(STAFF)
def review_queue(request, form=None):
    """网站开办及标识申请审核: the reviewer's tier, and (编办) the applications waiting for 资料确认."""
    user = request.user
    form = form or forms_state.restore(request, DecisionForm, name="application-review")
    base = WebsiteApplication.objects.select_related("unit", "unit__region", "domain", "office")
    pending = review.queue_for(base, user).order_by("submitted_at", "id")
    page = Paginator(pending, PER_PAGE).get_page(request.GET.get("page"))
    paper = []
    if user.role == "office":
        paper = queries.queue_rows(
            base.filter(office_id=user.office_id, status=ApplicationStatus.AWAITING_PAPER).order_by(
                "conac_approved_at", "id"
            )[:200]
        )
    return render(
        request,
        "badges/review_queue.html",
        {
            "page": page,
            "rows": queries.queue_rows(page.object_list),
            "paper_rows": paper,
            "form": form or DecisionForm(),
            "checked": set(form.data.getlist("ids")) if form is not None else set(),
            "reasons": list(CommonReason.objects.filter(is_active=True)),
            "tier": review.tier_of(user),
            "title": "待审核" if review.tier_of(user) == Tier.OFFICE else "待复审",
        },
    )


@allow(STAFF)
@require_POST
def review_decide(request):
    """审核通过 / 审核不通过 for the ticked applications, each its own decision."""
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return forms_state.redirect_with_form(request, form, reverse("badges:review-queue"), name="application-review")
    applications = WebsiteApplication.objects.visible_to(request.user).filter(public_id__in=form.cleaned_data["ids"])
    if not confirmation.is_confirmed(request):
        labels = [
            f"{a.site_name}（{a.unit.name}）"
            for a in applications.select_related("unit").order_by("submitted_at", "id")
        ]
        return confirmation.queue_question(
            request, form, labels, measure="份", noun="申请", cancel_url=reverse("badges:review-queue")
        )
    approve = form.cleaned_data["action"] == "approve"
    decided, refused = [], []
    for application in applications.order_by("submitted_at", "id"):
        try:
            if approve:
                review.approve(application, actor=request.user, opinion=form.cleaned_data["opinion"])
            else:
                review.reject(application, actor=request.user, opinion=form.cleaned_data["opinion"])
            decided.append(application.site_name)
        except review.ReviewError as exc:
            refused.append(f"{application.site_name}：{exc}")
    verb = "审核通过" if approve else "审核不通过"
    if decided:
        messages.success(request, f"已{verb} {len(decided)} 份申请：{'、'.join(decided[:10])}")
    for line in refused:
        messages.error(request, line)
    missing = len(set(form.cleaned_data["ids"])) - len(decided) - len(refused)
    if missing > 0:
        messages.error(request, f"{missing} 份所选申请不存在或不在您的审核范围内。")
    return redirect("badges:review-queue")


@allow(OFFICE)
@require_POST
def paper_decide(request, public_id):
    """资料确认 (the badge is issued) or 资料不符 (closed, with its reason)."""
    application = _application_or_404(request.user, public_id)
    form = PaperForm(request.POST)
    detail = reverse("badges:application-detail", args=[application.public_id])
    if not form.is_valid():
        return forms_state.redirect_with_form(request, form, detail, name=f"paper:{application.pk}")
    if not confirmation.is_confirmed(request):
        subject = f"{application.unit.name}的“{application.site_name}”"
        if form.cleaned_data["action"] == "confirm":
            return confirmation.ask(
                request,
                question=f"确认{subject}资料确认？",
                details=["确认后系统发放网站标识，并通过短信和邮件告知单位。"],
                cancel_url=detail,
                button="资料确认",
                danger=False,
            )
        return confirmation.ask(
            request,
            question=f"确认{subject}资料不符？",
            details=[f"资料不符原因：{form.cleaned_data['reason']}", "申请将关闭，单位须重新提交网站开办申请。"],
            cancel_url=detail,
            button="资料不符",
        )
    try:
        if form.cleaned_data["action"] == "confirm":
            badge = services.confirm_paper(application, actor=request.user)
            messages.success(request, f"资料确认完成，已发放网站标识 {badge.code}，并通过短信和邮件告知单位。")
        else:
            services.reject_paper(application, reason=form.cleaned_data["reason"], actor=request.user)
            messages.success(request, "已标记为资料不符，申请已关闭；单位须重新提交网站开办申请。")
    except services.ApplicationError as exc:
        messages.error(request, str(exc))
    return redirect(detail)


# --- 标识管理 ------------------------------------------------------------------------------


@allow(UNIT)
def badge_manage(request):
    """网上名称管理——标识管理: the unit's badges, each with its snippet and 标识证书."""
    badges = queries.badges_of(request.user.unit)
    rows = [{"badge": b, "snippet": queries.badge_snippet(b)} for b in badges]
    return render(request, "badges/badge_manage.html", {"rows": rows})


@allow(AUTHENTICATED)
def badge_certificate(request, code):
    """标识证书 as a PDF (the unit's own; offices and CONAC in their scope)."""
    badge = get_object_or_404(
        Badge.objects.visible_to(request.user).select_related("unit", "unit__region", "domain", "application"),
        code=code,
    )
    pdf = render_pdf("badges/certificate.html", {"badge": badge, "unit": badge.unit, "application": badge.application})
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="certificate-{badge.code}.pdf"'
    return response


# --- The staff badge page: state, hang checks, 撤销 -------------------------------------------

CHECKS_SHOWN = 20


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label="撤销原因",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "请填写撤销原因。"},
    )


def _badge_or_404(user, code):
    return get_object_or_404(
        Badge.objects.visible_to(user).select_related("unit", "unit__region", "office", "domain", "application"),
        code=code,
    )


@allow(STAFF)
def badge_detail(request, code, form=None):
    """The badge as CONAC and offices see it: its state, the hang checks, the 办理记录, and (CONAC) 撤销."""
    badge = _badge_or_404(request.user, code)
    form = form or forms_state.restore(request, RevokeForm, name=f"revoke:{badge.pk}")
    can_revoke = request.user.role == "conac" and badge.status != BadgeStatus.REVOKED
    return render(
        request,
        "badges/badge_detail.html",
        {
            "badge": badge,
            "checks": list(badge.checks.all()[:CHECKS_SHOWN]),
            "history": history_of(badge),
            "can_revoke": can_revoke,
            "revoke_form": form or RevokeForm(),
        },
    )


@allow(CONAC)
@require_POST
def badge_revoke(request, code):
    """撤销: CONAC, with a reason; the script, image and certificate page show it at once."""
    badge = _badge_or_404(request.user, code)
    form = RevokeForm(request.POST)
    detail = reverse("badges:badge-detail", args=[badge.code])
    if form.is_valid() and not confirmation.is_confirmed(request) and badge.status != BadgeStatus.REVOKED:
        return confirmation.ask(
            request,
            question=f"确认撤销{badge.unit.name}的网站标识 {badge.code}？",
            details=[
                f"网站：{badge.domain.full_name}",
                f"撤销原因：{form.cleaned_data['reason']}",
                "撤销后标识脚本和标识证书页立即显示已撤销，并通知单位和同级编办。",
            ],
            cancel_url=detail,
            button="撤销",
        )
    if form.is_valid():
        try:
            changed = services.revoke_badge(badge, reason=form.cleaned_data["reason"], actor=request.user)
        except services.ApplicationError as exc:
            form.add_error(exc.field, str(exc))
    if not form.is_valid():
        return forms_state.redirect_with_form(request, form, detail, name=f"revoke:{badge.pk}")
    if changed:
        messages.success(request, f"网站标识 {badge.code} 已撤销，已通知单位和同级编办。")
    else:
        messages.info(request, f"网站标识 {badge.code} 已经是已撤销状态。")
    return redirect("badges:badge-detail", code=badge.code)


# --- 网络红页 ------------------------------------------------------------------------------


@allow(UNIT)
def redpage_edit(request):
    """网络红页: the draft with 保存, 预览 and 发布红页; a unit without a badge is told what is missing."""
    unit = request.user.unit
    try:
        redpages.check_may_edit(unit)
    except redpages.RedPageError as exc:
        return render(
            request,
            "badges/redpage_edit.html",
            {"refusal": exc, "refusal_url": reverse(exc.link_name) if exc.link_name else None},
        )
    page = redpages.red_page_of(unit)
    form = RedPageForm(request.POST or None, initial={name: getattr(page, name) for name in redpages.DRAFT_FIELDS})
    preview = None
    if request.method == "POST" and form.is_valid():
        action = request.POST.get("action")
        try:
            if action == "publish":
                redpages.publish_red_page(unit, actor=request.user, draft=form.cleaned_data)
                messages.success(request, "网络红页已发布，公众现在看到的是新内容。")
                return redirect("badges:redpage-edit")
            if action == "preview":
                preview = redpages.preview_html(unit, form.cleaned_data)
            else:
                redpages.save_draft(unit, actor=request.user, **form.cleaned_data)
                messages.success(request, "已保存草稿；点击“发布红页”后公众才能看到。")
                return redirect("badges:redpage-edit")
        except redpages.RedPageError as exc:
            form.add_error(exc.field, str(exc))
    if request.method == "POST" and form.errors:
        return forms_state.redirect_with_form(request, form, reverse("badges:redpage-edit"), name="redpage")
    if request.method != "POST":
        form = forms_state.restore(request, RedPageForm, name="redpage") or form
    published = page.pk is not None and page.is_published
    unpublished_changes = published and any(
        getattr(page, f"published_{name}") != value for name, value in redpages.published_values(page).items()
    )
    return render(
        request,
        "badges/redpage_edit.html",
        {
            "form": form,
            "page": page,
            "published": published,
            "unpublished_changes": unpublished_changes,
            "preview": preview,
            "public_url": request.build_absolute_uri(reverse("badges:redpage-public", args=[unit.public_id])),
            "domain_urls": redpages.public_addresses(unit),
            "history": history_of(page)[:50] if page.pk else [],
        },
    )


@allow(PUBLIC)
def redpage_public(request, public_id):
    """The published red page on the main site (the unit's own domains are answered by Host)."""
    return redpages.serve_unit(public_id, request) or not_found()
