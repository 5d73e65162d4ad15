"""域名解析 (unit) and 解析审核 (CONAC).

The manual's 三（五）: 我的域名 → 域名解析 → 添加记录 → 保存 → “是否允许系统自动添加相同的
www转发记录” → 确定 → “域名解析/转发申请提交成功，审核通过后即可生效” → 关闭. With
JavaScript the question and the message open as dialogs on the 域名解析 page; without
it the same questions come as plain pages.
"""

import uuid

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from conac import confirmation, forms_state
from conac.access import CONAC, UNIT, allow
from registry.models import Domain, DomainStatus
from review import services as review
from review.models import CommonReason

from . import queries, services
from .forms import ChangeDecisionForm, RecordForm
from .models import ChangeStatus, DnsChange, DnsRecord

PER_PAGE = 50
DONE_MESSAGE = "域名解析/转发申请提交成功，审核通过后即可生效"
WWW_QUESTION = "是否允许系统自动添加相同的www转发记录"


def _uuid_or_404(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise Http404 from None


def _domain_or_404(user, public_id):
    return get_object_or_404(
        Domain.objects.visible_to(user).select_related("unit", "office"), public_id=_uuid_or_404(public_id)
    )


def _records_url(domain, **query):
    url = reverse("registry:dns-records", args=[domain.public_id])
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return url


def _submit(form, call):
    """Run one service call for a valid form; field errors and refusals go back onto the form."""
    try:
        return call()
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    except services.DnsError as exc:
        form.add_error(None, str(exc))
    return None


@allow(UNIT)
def dns_records(request, public_id):
    """域名解析: the domain's records with their states, and 添加记录."""
    domain = _domain_or_404(request.user, public_id)
    form = RecordForm(request.POST or None)
    if request.method == "POST" and domain.status == DomainStatus.ACTIVE and form.is_valid():
        change = _submit(form, lambda: services.request_add(domain, actor=request.user, **form.record))
        if change is not None:
            if change.host == "@" and change.rtype != "NS":
                return redirect(_records_url(domain, prompt=change.public_id))
            return redirect(_records_url(domain, done=1))
    if request.method == "POST":
        return forms_state.redirect_with_form(request, form, _records_url(domain), name=f"dns-add:{domain.pk}")
    form = forms_state.restore(request, RecordForm, name=f"dns-add:{domain.pk}") or form
    prompt = None
    if request.GET.get("prompt"):
        prompt = DnsChange.objects.filter(
            domain=domain, public_id=_uuid_or_404(request.GET["prompt"]), host="@", status=ChangeStatus.PENDING
        ).first()
    return render(
        request,
        "registry/dns_records.html",
        {
            "domain": domain,
            "editable": domain.status == DomainStatus.ACTIVE,
            "rows": queries.record_rows(domain),
            "form": form,
            "delegation": queries.delegation_state(domain, settings.DNS_MIN_DELEGATION_NS),
            "history": queries.dns_history(domain),
            "prompt": prompt,
            "done": request.GET.get("done") == "1",
            "question": WWW_QUESTION,
            "done_message": DONE_MESSAGE,
            "limit": settings.DNS_MAX_RECORDS_PER_DOMAIN,
        },
    )


@allow(UNIT)
def dns_www_prompt(request, public_id, change_id):
    """是否允许系统自动添加相同的www转发记录: 确定 adds the www twin, 取消 does not."""
    domain = _domain_or_404(request.user, public_id)
    change = get_object_or_404(DnsChange, domain=domain, public_id=_uuid_or_404(change_id), host="@")
    if request.method == "POST":
        if request.POST.get("answer") == "yes":
            try:
                twin = services.add_www_twin(change, actor=request.user)
            except ValidationError as exc:
                messages.error(request, "未能添加www记录：" + "；".join(exc.messages))
            except services.DnsError as exc:
                messages.error(request, f"未能添加www记录：{exc}")
            else:
                if twin is None:
                    messages.info(request, "主机记录www已有同类型的记录，未自动添加。")
        return redirect(_records_url(domain, done=1))
    return render(request, "registry/dns_prompt.html", {"domain": domain, "change": change, "question": WWW_QUESTION})


@allow(UNIT)
def dns_record_modify(request, public_id, record_id):
    """修改: new values wait for 解析审核; the record in service stays until then."""
    domain = _domain_or_404(request.user, public_id)
    record = get_object_or_404(DnsRecord.objects.effective(), domain=domain, public_id=_uuid_or_404(record_id))
    form = RecordForm(request.POST or None, initial=RecordForm.initial_for(record))
    if request.method == "POST" and form.is_valid():
        change = _submit(form, lambda: services.request_modify(record, actor=request.user, **form.record))
        if change is not None:
            return redirect(_records_url(domain, done=1))
    if request.method == "POST":
        url = reverse("registry:dns-record-modify", args=[domain.public_id, record.public_id])
        return forms_state.redirect_with_form(request, form, url, name=f"dns-modify:{record.pk}")
    form = (
        forms_state.restore(request, RecordForm, name=f"dns-modify:{record.pk}", initial=RecordForm.initial_for(record))
        or form
    )
    return render(request, "registry/dns_modify.html", {"domain": domain, "record": record, "form": form})


@allow(UNIT)
@require_POST
def dns_record_delete(request, public_id, record_id):
    """删除: the record is 待删除 until the deletion is approved."""
    domain = _domain_or_404(request.user, public_id)
    record = get_object_or_404(DnsRecord.objects.effective(), domain=domain, public_id=_uuid_or_404(record_id))
    try:
        services.request_delete(record, actor=request.user)
    except services.DnsError as exc:
        messages.error(request, str(exc))
        return redirect(_records_url(domain))
    return redirect(_records_url(domain, done=1))


# --- 解析审核 ------------------------------------------------------------------------------


@allow(CONAC)
def dns_review(request, form=None):
    """网上名称管理——解析审核: pending changes with the old and the new value."""
    form = form or forms_state.restore(request, ChangeDecisionForm, name="dns-review")
    page = Paginator(queries.review_queue(), PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "registry/dns_review.html",
        {
            "page": page,
            "form": form or ChangeDecisionForm(),
            "checked": set(form.data.getlist("ids")) if form is not None else set(),
            "reasons": list(CommonReason.objects.filter(is_active=True)),
            "zones": queries.zone_states(),
            "nameserver_configured": bool(settings.DNS_NSD_CONTROL),
        },
    )


@allow(CONAC)
@require_POST
def dns_review_decide(request):
    """审核通过 / 审核不通过 for the ticked changes, each its own decision."""
    form = ChangeDecisionForm(request.POST)
    if not form.is_valid():
        return forms_state.redirect_with_form(request, form, reverse("registry:dns-review"), name="dns-review")
    changes = DnsChange.objects.visible_to(request.user).filter(public_id__in=form.cleaned_data["ids"])
    if not confirmation.is_confirmed(request):
        labels = [
            f"{c.domain.full_name} {c.host_display} {c.get_rtype_display()}"
            for c in changes.select_related("domain").order_by("submitted_at", "id")
        ]
        return confirmation.queue_question(
            request, form, labels, measure="条", noun="解析申请", cancel_url=reverse("registry:dns-review")
        )
    decided, refused = [], []
    approve = form.cleaned_data["action"] == "approve"
    for change in changes.select_related("domain").order_by("submitted_at", "id"):
        label = f"{change.domain.full_name} {change.host_display} {change.get_rtype_display()}"
        try:
            if approve:
                review.approve(change, actor=request.user, opinion=form.cleaned_data["opinion"])
            else:
                review.reject(change, actor=request.user, opinion=form.cleaned_data["opinion"])
            decided.append(label)
        except review.ReviewError as exc:
            refused.append(f"{label}：{exc}")
    verb = "审核通过" if approve else "审核不通过"
    if decided:
        messages.success(
            request,
            f"已{verb} {len(decided)} 条解析申请：{'、'.join(decided[:10])}{' 等' if len(decided) > 10 else ''}",
        )
    for line in refused:
        messages.error(request, line)
    missing = len(set(form.cleaned_data["ids"])) - len(decided) - len(refused)
    if missing > 0:
        messages.error(request, f"{missing} 条所选申请不存在或已处理。")
    return redirect("registry:dns-review")
