"""Billing pages: 待缴费域名 with 消费变更, 收费 with its 收费确认单, 汇款管理, 认款管理, 续费,
and 对账报表. Each view parses, calls one service (billing.services) or report, renders."""

import re
import uuid

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q, Sum
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header, urlencode
from django.views.decorators.http import require_POST

from conac import confirmation, exports, forms_state
from conac.access import CONAC, OFFICE, STAFF, allow
from conac.navigation import back_url
from conac.pdf import render_pdf
from registry import todo as registry_todo
from registry.domains import queries as domain_queries
from registry.domains.forms import DomainSearchForm
from registry.models import Domain, Office, Unit, User

from . import reports, services
from .capital import capital_yuan
from .forms import ChangeYearsForm, FeeMarkingForm, RefundForm, RemittanceForm, RenewalForm, ticked_ids
from .models import (
    OPEN_RENEWAL_STATES,
    C,
    Charge,
    ChargeKind,
    FeeMarking,
    LedgerEntry,
    OfficeAccount,
    Refund,
    Remittance,
    RemittanceStatus,
)
from .money import ZERO, yuan, yuan_text

PER_PAGE = 20
REPORT_LINES_PER_PAGE = 50
RENEWAL_ROWS_SHOWN = 200  # more ticked domains are counted, not listed
MAX_RENEWALS_PER_SUBMISSION = 20_000
MESSAGE_LINES = 20


def _uuid_or_404(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise Http404 from None


def _show_at_field(form, error, fields):
    """Put a service's refusal at the field it names (its message names the field's label)."""
    message = str(error)
    for label, name in fields.items():
        if label in message:
            form.add_error(name, message)
            return
    form.add_error(None, message)


# --- 网上名称管理——待缴费域名 and 消费变更 ----------------------------------------------------


@allow(OFFICE)
def unpaid_charges(request):
    """The office's units' 待缴费 charges (registrations and renewals), each with 消费变更."""
    charges = Charge.objects.filter(office_id=request.user.office_id, status=C.PENDING)
    q = request.GET.get("q", "").strip()
    if q:
        charges = charges.filter(Q(domain__label__startswith=q) | Q(unit__name__contains=q))
    charges = charges.select_related("domain", "unit").order_by("-created_at", "-id")
    page = Paginator(charges, PER_PAGE).get_page(request.GET.get("page"))
    total = charges.aggregate(total=Sum("amount"))["total"] or ZERO
    return render(request, "billing/unpaid_charges.html", {"page": page, "q": q, "total": total})


def _own_charge_or_404(user, public_id):
    return get_object_or_404(
        Charge.objects.filter(office_id=user.office_id).select_related("domain", "unit"),
        public_id=_uuid_or_404(public_id),
    )


@allow(OFFICE)
def charge_change(request, public_id):
    """消费变更: 注册年限* → 确定; in place in the row (htmx), or as a page without JavaScript."""
    charge = _own_charge_or_404(request.user, public_id)
    if request.htmx and request.GET.get("cancel"):
        return render(request, "billing/partials/charge_row.html", {"charge": charge})
    # Several rows may be open at once: each form's ids are its own.
    form = ChangeYearsForm(
        request.POST or None, initial={"years": charge.years}, auto_id=f"id_%s_{charge.public_id.hex[:8]}"
    )
    if request.method == "POST" and form.is_valid():
        try:
            charge = services.change_charge_years(charge, years=form.cleaned_data["years"], actor=request.user)
        except services.BillingError as exc:
            form.add_error("years", str(exc))
        else:
            done = f"“{charge.domain.full_name}”已变更为{charge.years}年，金额{yuan_text(charge.amount)}。"
            if request.htmx:
                return render(request, "billing/partials/charge_row.html", {"charge": charge, "changed": done})
            messages.success(request, done)
            return redirect("billing:unpaid-charges")
    if request.method == "POST" and not request.htmx:
        return forms_state.redirect_with_form(
            request, form, reverse("billing:charge-change", args=[charge.public_id]), name=f"charge-change:{charge.pk}"
        )
    if request.method != "POST":
        form = (
            forms_state.restore(
                request, ChangeYearsForm, name=f"charge-change:{charge.pk}", auto_id=f"id_%s_{charge.public_id.hex[:8]}"
            )
            or form
        )
    template = "billing/partials/charge_change_row.html" if request.htmx else "billing/charge_change.html"
    return render(request, template, {"charge": charge, "form": form})


# --- 收费 (in 用户管理——申报单位管理/缴费 → 详细信息) -----------------------------------------


@allow(OFFICE)
def unit_charges(request, public_id):
    """收费: the unit's payable charges with the 应收金额; 发票号码*, 收费金额* → 确认收费."""
    unit = get_object_or_404(
        Unit.objects.editable_by(request.user).select_related("office"), public_id=_uuid_or_404(public_id)
    )
    marking = None
    form = FeeMarkingForm(request.POST or None)
    state_name = f"unit-charges:{unit.public_id}"
    if request.method == "POST" and form.is_valid() and not confirmation.is_confirmed(request):
        seen = form.cleaned_data["charges"]
        return confirmation.ask(
            request,
            question=(
                f"向{unit.name}（统一社会信用代码 {unit.credit_code}）确认收费 {yuan_text(form.cleaned_data['amount'])}"
                f"（发票号码 {form.cleaned_data['invoice_no']}），共 {len(seen)} 笔？"
            ),
            details=[
                f"{c.domain.full_name}：{c.get_kind_display()} {c.years}年 {yuan_text(c.amount)}"
                for c in Charge.objects.filter(public_id__in=seen, unit=unit).select_related("domain").order_by("id")
            ],
            cancel_url=reverse("billing:unit-charges", args=[unit.public_id]),
            button="确认收费",
        )
    if request.method == "POST" and form.is_valid():
        seen = form.cleaned_data["charges"]
        pks = dict(Charge.objects.filter(public_id__in=seen).values_list("public_id", "pk"))
        # An id that is no charge at all can never match the unit's charges: the service refuses.
        charge_ids = [pks.get(public, -1) for public in seen]
        try:
            marking = services.mark_fees_paid(
                unit,
                charge_ids=charge_ids,
                invoice_no=form.cleaned_data["invoice_no"],
                amount=form.cleaned_data["amount"],
                actor=request.user,
            )
        except services.BillingError as exc:
            _show_at_field(form, exc, {"收费金额": "amount", "发票号码": "invoice_no"})
    if request.method == "POST" and not request.htmx:
        # Without htmx the answer is a GET of the 收费 page: a reload re-sends nothing.
        url = reverse("billing:unit-charges", args=[unit.public_id])
        if marking is not None:
            return redirect(f"{url}?marking={marking.public_id}")
        return forms_state.redirect_with_form(request, form, url, name=state_name)
    if request.method != "POST":
        form = forms_state.restore(request, FeeMarkingForm, name=state_name) or form
        if request.GET.get("marking"):
            marking = FeeMarking.objects.filter(
                unit=unit, office_id=request.user.office_id, public_id=_uuid_or_404(request.GET["marking"])
            ).first()
    charges = list(services.payable_charges(unit, request.user.office))
    total = yuan(sum((c.amount for c in charges), ZERO))
    if marking is not None or not form.is_bound:
        form = FeeMarkingForm(initial={"amount": total if charges else None})
    context = {
        "unit": unit,
        "charges": charges,
        "total": total,
        "form": form,
        "marking": marking,
        "markings": FeeMarking.objects.filter(unit=unit, office_id=request.user.office_id)
        .select_related("marked_by")
        .order_by("-marked_at", "-id")[:10],
        "refunds": list(services.refundable_charges(request.user.office, unit)),
    }
    template = "billing/partials/unit_charges.html" if request.htmx else "billing/unit_charges_page.html"
    return render(request, template, context)


@allow(STAFF)
def marking_receipt(request, public_id):
    """收费确认单 (PDF) of one 确认收费, for the unit."""
    markings = FeeMarking.objects.select_related("office", "unit", "marked_by")
    if request.user.role == User.Role.OFFICE:
        markings = markings.filter(office__code__startswith=request.user.office.scope_prefix)
    marking = get_object_or_404(markings, public_id=_uuid_or_404(public_id))
    charges = list(marking.charges.select_related("domain").order_by("id"))
    pdf = render_pdf(
        "billing/receipt.html",
        {
            "marking": marking,
            "charges": charges,
            "total": marking.amount,
            "capital": capital_yuan(marking.amount),
            "printed_at": timezone.now(),
        },
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        False, f"收费确认单-{marking.unit.name}-{marking.invoice_no}.pdf"
    )
    return response


# --- 汇款管理 (编办) and 认款管理 (CONAC) ----------------------------------------------------


@allow(OFFICE)
def remittance_list(request):
    """汇款管理: the office's remittances and 登记汇款."""
    office = request.user.office
    form = RemittanceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            remittance = services.register_remittance(
                office,
                amount=form.cleaned_data["amount"],
                remitted_on=form.cleaned_data["remitted_on"],
                voucher_no=form.cleaned_data["voucher_no"],
                note=form.cleaned_data["note"],
                actor=request.user,
            )
        except services.BillingError as exc:
            _show_at_field(
                form, exc, {"汇款凭证号": "voucher_no", "汇款日期": "remitted_on", "汇款金额": "amount", "备注": "note"}
            )
        else:
            messages.success(
                request,
                f"已登记汇款 {yuan_text(remittance.amount)}（汇款凭证号 {remittance.voucher_no}），等待CONAC认款。",
            )
            return redirect("billing:remittance-list")
    if request.method == "POST":
        return forms_state.redirect_with_form(request, form, reverse("billing:remittance-list"), name="remittance")
    form = forms_state.restore(request, RemittanceForm, name="remittance") or form
    remittances = Remittance.objects.filter(office=office).order_by("-registered_at", "-id")
    # 首页's "汇款待认款" links here with ?status=pending: only those.
    status = request.GET.get("status") if request.GET.get("status") in RemittanceStatus.values else ""
    if status:
        remittances = remittances.filter(status=status)
    page = Paginator(remittances, PER_PAGE).get_page(request.GET.get("page"))
    summary = reports.reconciliation(office).lines[0]
    return render(
        request,
        "billing/remittance_list.html",
        {
            "form": form,
            "page": page,
            "summary": summary,
            "status_label": RemittanceStatus(status).label if status else "",
        },
    )


@allow(CONAC)
def remittance_confirm_list(request):
    """认款管理: remittances 待认款 from every office (each with 认款), and recent 已认款."""
    tab = "confirmed" if request.GET.get("tab") == "confirmed" else "pending"
    if tab == "pending":
        remittances = Remittance.objects.filter(status=RemittanceStatus.PENDING).order_by("registered_at", "id")
    else:
        remittances = Remittance.objects.filter(status=RemittanceStatus.CONFIRMED).order_by("-confirmed_at", "-id")
    remittances = remittances.select_related("office", "registered_by", "confirmed_by")
    page = Paginator(remittances, PER_PAGE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    office_ids = {r.office_id for r in rows}
    # What each office has marked and not yet paid for, and its balance: what 认款 will consume.
    unconsumed = dict(
        Charge.objects.filter(office_id__in=office_ids, status=C.MARKED)
        .values("office_id")
        .annotate(total=Sum("amount"))
        .order_by()
        .values_list("office_id", "total")
    )
    balances = dict(OfficeAccount.objects.filter(office_id__in=office_ids).values_list("office_id", "balance"))
    for r in rows:
        r.unconsumed_total = unconsumed.get(r.office_id) or ZERO
        r.office_balance = balances.get(r.office_id) or ZERO
    if tab == "pending":
        marked = _marked_amounts(office_ids)
        for r in rows:
            r.confirm_question = _remittance_question(r, r.office_balance, marked.get(r.office_id, []))
    pending_count = (
        page.paginator.count if tab == "pending" else Remittance.objects.filter(status=RemittanceStatus.PENDING).count()
    )
    return render(
        request,
        "billing/remittance_confirm_list.html",
        {"page": page, "rows": rows, "tab": tab, "pending_count": pending_count},
    )


def _marked_amounts(office_ids):
    """Each office's 已收费 charge amounts in the order 认款 consumes them (one query)."""
    marked = {}
    rows = (
        Charge.objects.filter(office_id__in=office_ids, status=C.MARKED)
        .order_by("office_id", "marked_at", "id")
        .values_list("office_id", "amount")
    )
    for office_id, amount in rows:
        marked.setdefault(office_id, []).append(amount)
    return marked


def _remittance_question(remittance, balance, amounts):
    """What 认款 will do, for the question asked first: services.confirm_remittance consumes the
    已收费 charges strictly oldest first while the balance covers each (a preview; it decides)."""
    count = services.consumable_count(amounts, balance + remittance.amount)
    total = sum(amounts[:count], ZERO)
    available = balance + remittance.amount - total
    question = f"认款 {yuan_text(remittance.amount)}，将按收费先后消费 {count} 笔"
    if count:
        question += f"（共 {yuan_text(total)}）"
    question += f"？{remittance.office.name}，汇款凭证号 {remittance.voucher_no}"
    if len(amounts) > count:
        question += f"；余额不足的 {len(amounts) - count} 笔留待下次认款"
    return question + f"；认款后余额 {yuan_text(available)}。"


@allow(CONAC)
@require_POST
def remittance_confirm(request, public_id):
    """认款: the system credits the office and consumes its 已收费 charges, oldest first."""
    remittance = get_object_or_404(Remittance.objects.select_related("office"), public_id=_uuid_or_404(public_id))
    if not confirmation.is_confirmed(request) and remittance.status == RemittanceStatus.PENDING:
        balance = OfficeAccount.objects.filter(office_id=remittance.office_id).values_list("balance", flat=True).first()
        question = _remittance_question(
            remittance, balance or ZERO, _marked_amounts([remittance.office_id]).get(remittance.office_id, [])
        )
        return confirmation.ask(
            request,
            question=question.split("？", 1)[0] + "？",
            details=[part for part in question.split("？", 1)[1].rstrip("。").split("；") if part],
            cancel_url=reverse("billing:remittance-confirm-list"),
            button="认款",
        )
    try:
        summary = services.confirm_remittance(remittance, actor=request.user)
    except services.BillingError as exc:
        messages.error(request, str(exc))
    else:
        text = (
            f"已认款：{remittance.office.name} 汇款 {yuan_text(remittance.amount)}（汇款凭证号 {remittance.voucher_no}）。"
            f"消费 {summary['consumed_count']} 笔，共 {yuan_text(summary['consumed_total'])}"
        )
        if summary["consumed_count"]:
            text += f"，生效日期 {summary['effective_on']:%Y-%m-%d}"
        text += (
            f"；尚有已收费未消费 {summary['unpaid_count']} 笔，共 {yuan_text(summary['unpaid_total'])}；"
            f"余额 {yuan_text(summary['balance'])}。"
        )
        messages.success(request, text)
    return redirect("billing:remittance-confirm-list")


# --- 续费 (from 网上名称管理——域名查询) ---------------------------------------------------


@allow(OFFICE)
def renew(request):
    """续费: the ticked domains, 续费年限* → 提交续费申请 → renewal charges 待缴费.

    A refused 提交续费申请 comes back here as a GET carrying the kept form (PRG)."""
    if request.method != "POST":
        form = forms_state.restore(request, RenewalForm, name="renew")
        if form is None:
            return redirect("registry:domain-search")
        ids = ticked_ids(form.data)
    elif "years" not in request.POST:
        # Arrived from 域名查询 with the ticked rows: show them and ask for the years.
        ids = _all_matching_ids(request) or ticked_ids(request.POST)
        if not ids:
            messages.error(request, "请先勾选要续费的域名。")
            return redirect(back_url(request, "registry:domain-search"))
        form = RenewalForm(initial={"ids": ids})
    else:
        form = RenewalForm(request.POST)
        if form.is_valid():
            ids = form.cleaned_data["ids"]
            pks = list(Domain.objects.filter(public_id__in=ids).values_list("pk", flat=True))
            try:
                created, skipped = services.submit_renewals(pks, years=form.cleaned_data["years"], actor=request.user)
            except services.BillingError as exc:
                form.add_error("years", str(exc))
            else:
                _report_renewals(request, created, skipped, unknown=len(ids) - len(pks))
                return redirect("billing:unpaid-charges")
        return forms_state.redirect_with_form(request, form, reverse("billing:renew"), name="renew")
    renewable = (
        Domain.objects.filter(public_id__in=ids, office_id=request.user.office_id, status__in=services.RENEWABLE_STATES)
        .annotate(
            open_renewal=Exists(
                Charge.objects.filter(domain=OuterRef("pk"), kind=ChargeKind.RENEWAL, status__in=OPEN_RENEWAL_STATES)
            )
        )
        .select_related("unit")
        .order_by("expires_on", "id")
    )
    count = renewable.count()
    rows = list(renewable[:RENEWAL_ROWS_SHOWN])
    today = timezone.localdate()
    for domain in rows:
        # The 到期时间 each choice of 续费年限 would give; a choice still in the past is refused.
        domain.after = {
            n: {"date": services.renewed_expiry(domain, n), "past": services.renewed_expiry(domain, n) < today}
            for n in range(1, 11)
        }
    chosen = form.data.get("years") if form.is_bound else None
    try:
        chosen = int(chosen) if chosen else int(form.initial.get("years") or form.fields["years"].initial or 1)
    except (TypeError, ValueError):
        chosen = 1
    for domain in rows:
        domain.chosen_after = domain.after.get(chosen)
    return render(
        request,
        "billing/renew.html",
        {
            "form": form,
            "rows": rows,
            "count": count,
            "ticked": len(ids),
            "not_renewable": len(ids) - count,
            "shown": RENEWAL_ROWS_SHOWN,
        },
    )


def _all_matching_ids(request):
    """“勾选全部查询结果”: every domain the 域名查询 query matches (the office's own), not only the page."""
    if request.POST.get("select_all") != "1":
        return []
    form = DomainSearchForm(QueryDict(request.POST.get("query", "")))
    if not form.is_valid():
        return []
    matching = domain_queries.search(Domain.objects.filter(office_id=request.user.office_id), form.cleaned_data)
    return list(matching.values_list("public_id", flat=True)[:MAX_RENEWALS_PER_SUBMISSION])


def _report_renewals(request, created, skipped, *, unknown):
    if created:
        messages.success(
            request, f"已提交续费申请：新建续费消费 {len(created)} 笔（待缴费），收费后汇款、认款即可续费成功。"
        )
    else:
        messages.warning(request, "没有新建续费消费。")
    lines = [f"{name}：{reason}" for name, reason in skipped.items()]
    if unknown:
        lines.append(f"其他{unknown}个所选域名：不存在")
    for line in lines[:MESSAGE_LINES]:
        messages.warning(request, f"未续费 {line}")
    if len(lines) > MESSAGE_LINES:
        messages.warning(request, f"另有 {len(lines) - MESSAGE_LINES} 个域名未续费。")


# --- 对账报表 ------------------------------------------------------------------------------


def _report_office_or_404(user, code):
    if user.role == User.Role.OFFICE:
        if code != user.office.code:
            raise Http404
        return user.office
    return get_object_or_404(Office, code=code)


@allow(STAFF)
def reconciliation(request):
    """对账报表: 编办 its own line; CONAC every office with money figures, and the totals."""
    office = _report_scope(request.user)
    report, province = _report_for(request.user, request.GET.get("province", ""))
    page = Paginator(report.lines, REPORT_LINES_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "billing/reconciliation.html",
        {
            "report": report,
            "page": page,
            "figures": reports.FIGURES,
            "all_offices": office is None,
            "province": province,
        },
    )


@allow(STAFF)
def reconciliation_export(request):
    """导出Excel of the 对账报表 the user may see: at once when it fits on one page, else as an export job."""
    code = request.GET.get("province", "")
    report, province = _report_for(request.user, code)
    if len(report.lines) <= REPORT_LINES_PER_PAGE:
        return exports.xlsx_response(reports.export_xlsx(report), f"对账报表-{timezone.localdate():%Y%m%d}.xlsx")
    back = reverse("billing:reconciliation") + (f"?province={code}" if province else "")
    job = exports.start(
        reconciliation_export_table,
        owner=request.user,
        parameters={"back": back, "province": code if province else ""},
        rows_total=len(report.lines) + 1,
    )
    return redirect("exports:job", public_id=job.public_id)


def _report_scope(user):
    """编办: its own line; CONAC: every office (None)."""
    return user.office if user.role == User.Role.OFFICE else None


def _report_for(user, province_code):
    """The 对账报表 the user may see and the province's name: CONAC may narrow it to one province
    (its office and every office under it, as 首页's chart links do); an office sees its own line
    whatever it asks. The page, its 导出Excel and the export job all read it from here."""
    office = _report_scope(user)
    report = reports.reconciliation(office)
    valid = office is None and re.fullmatch(r"\d{2}", province_code or "")
    province = registry_todo.province_name(province_code) if valid else ""
    if province:
        report = reports.within_province(report, province_code)
    return report, province


@exports.source(title="对账报表")
def reconciliation_export_table(owner, parameters):
    """The 对账报表 export as a job: the owner's scope again, the same rows as ``reports.export_xlsx``."""
    report, _province = _report_for(owner, parameters.get("province", ""))

    def rows():
        for line in report.lines:
            yield reports._export_row(line.office.code, line.office.name, line)
        yield reports._export_row("", "合计", report.total)

    return exports.Table(
        title="对账报表", columns=reports.EXPORT_COLUMNS, rows=rows(), count=lambda: len(report.lines) + 1
    )


DRILL_TABS = {"ledger": "账目明细", "remittances": "汇款", "charges": "消费"}


@allow(STAFF)
def reconciliation_office(request, code):
    """One office's lines: the ledger (with 余额 after each), its remittances, its charges by status."""
    office = _report_office_or_404(request.user, code)
    tab = request.GET.get("tab") if request.GET.get("tab") in DRILL_TABS else "ledger"
    status = request.GET.get("status", "")
    if tab == "ledger":
        rows = LedgerEntry.objects.filter(office=office).select_related("remittance", "charge__domain").order_by("-id")
    elif tab == "remittances":
        rows = Remittance.objects.filter(office=office).select_related("confirmed_by").order_by("-registered_at", "-id")
    else:
        rows = Charge.objects.filter(office=office).select_related("domain", "unit", "marking").order_by("-id")
        if status in C.values:
            rows = rows.filter(status=status)
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "billing/reconciliation_office.html",
        {
            "office": office,
            "line": reports.reconciliation(office).lines[0],
            "figures": reports.FIGURES,
            "tab": tab,
            "tabs": DRILL_TABS,
            "page": page,
            "status": status,
            "by_status": reports.charges_by_status(office) if tab == "charges" else [],
        },
    )


# --- 退费 (网上名称管理——待缴费域名 → 待退费) -----------------------------------------------


@allow(OFFICE)
def refund_list(request):
    """待退费: what the office owes back to its units (domains deleted after 收费), each with 退费."""
    charges = services.refundable_charges(request.user.office)
    q = request.GET.get("q", "").strip()
    if q:
        charges = charges.filter(Q(domain__label__startswith=q) | Q(unit__name__contains=q))
    page = Paginator(charges, PER_PAGE).get_page(request.GET.get("page"))
    total = charges.aggregate(total=Sum("amount"))["total"] or ZERO
    refunds = (
        Refund.objects.filter(office_id=request.user.office_id)
        .select_related("charge__domain", "unit", "recorded_by")
        .order_by("-recorded_at", "-id")[:PER_PAGE]
    )
    return render(request, "billing/refund_list.html", {"page": page, "q": q, "total": total, "refunds": refunds})


@allow(OFFICE)
def charge_refund(request, public_id):
    """退费: 退费日期*, 退费凭证号*, 退费金额* → 确认退费; the charge becomes 已退费."""
    charge = _own_charge_or_404(request.user, public_id)
    form = RefundForm(request.POST or None, initial={"refunded_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid() and not confirmation.is_confirmed(request):
        return confirmation.ask(
            request,
            question=(
                f"确认退费 {yuan_text(form.cleaned_data['amount'])}给{charge.unit.name}"
                f"（“{charge.domain.full_name}”，退费凭证号 {form.cleaned_data['voucher_no']}）？"
            ),
            details=[f"退费日期：{form.cleaned_data['refunded_on']:%Y-%m-%d}", "登记后该消费为已退费，不能撤回。"],
            cancel_url=back_url(request, "billing:refund-list"),
            button="确认退费",
        )
    if request.method == "POST" and form.is_valid():
        try:
            refund = services.record_refund(
                charge,
                refunded_on=form.cleaned_data["refunded_on"],
                voucher_no=form.cleaned_data["voucher_no"],
                amount=form.cleaned_data["amount"],
                actor=request.user,
            )
        except services.BillingError as exc:
            _show_at_field(form, exc, {"退费凭证号": "voucher_no", "退费日期": "refunded_on", "退费金额": "amount"})
        else:
            messages.success(
                request,
                f"已退费：“{charge.domain.full_name}” {yuan_text(refund.amount)}（退费凭证号 {refund.voucher_no}）。",
            )
            return redirect(back_url(request, "billing:refund-list"))
    if request.method == "POST":
        url = reverse("billing:charge-refund", args=[charge.public_id])
        next_url = back_url(request, "billing:refund-list")
        return forms_state.redirect_with_form(
            request, form, f"{url}?{urlencode({'next': next_url})}", name=f"refund:{charge.pk}"
        )
    form = forms_state.restore(request, RefundForm, name=f"refund:{charge.pk}") or form
    charge.refresh_from_db(fields=["status"])
    refund = Refund.objects.filter(charge=charge).select_related("recorded_by").first()
    return render(
        request,
        "billing/charge_refund.html",
        {"charge": charge, "form": form, "refund": refund, "next": back_url(request, "billing:refund-list")},
    )
