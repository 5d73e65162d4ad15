"""网站开办及标识申请审核 through the review engine (编办, then CONAC; out of turn and out of scope
refused; a rejection's reason told and the application re-submitted), the paper step of the
党政机关 (申请函 and 申请表 made once, served to the unit and its office only, 资料确认 / 资料不符,
the 10-working-day flag), and a queue that costs the same number of queries for 10 or 1,000 rows."""

import datetime
import re
import subprocess  # nosec B404

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from badges import services, tasks
from badges.models import Badge, WebsiteApplication, document_storage
from conac.audit import history_of
from conac.models import Notice
from registry.domains import names
from registry.models import Domain
from review import services as review
from review.models import CommonReason, Decision
from tests import factories
from tests.badges.helpers import approve_both, awaiting_paper, live_domain, post_data, row, submit

QUEUE = reverse("badges:review-queue")
DECIDE = reverse("badges:review-decide")


def paper_url(application):
    return reverse("badges:paper-decide", args=[application.public_id])


def document_url(application, document):
    return reverse("badges:application-document", args=[application.public_id, document])


def row_text(html, table_id, site_name):
    """The visible text of the row naming ``site_name`` in table ``table_id`` (None when absent)."""
    table = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    for tr in table.split("<tr")[2:]:
        text = " ".join(re.sub(r"<[^>]+>", " ", tr.split("</tr>")[0]).split())
        if site_name in text:
            return text
    return None


def pdftotext(data, tmp_path, name="doc.pdf"):
    path = tmp_path / name
    path.write_bytes(data)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout  # noqa: S603,S607


# --- The two tiers ----------------------------------------------------------------------------


def test_the_office_then_conac_approve_in_the_queue(client_for, unit, organ_domain, office_user, conac_user):
    application = submit(organ_domain)
    office, conac = client_for(office_user), client_for(conac_user)

    assert "海淀测试局门户网站" in row_text(
        office.get(QUEUE).content.decode(), "application-queue", "海淀测试局门户网站"
    )
    assert row_text(conac.get(QUEUE).content.decode(), "application-queue", "海淀测试局门户网站") is None

    response = office.post(
        DECIDE, {"ids": [application.public_id], "action": "approve", "confirmed": "1", "opinion": ""}, follow=True
    )
    assert "已审核通过 1 份申请" in response.content.decode()
    application.refresh_from_db()
    assert application.status == "pending_conac"

    response = conac.post(
        DECIDE, {"ids": [application.public_id], "action": "approve", "confirmed": "1", "opinion": ""}, follow=True
    )
    assert "已审核通过 1 份申请" in response.content.decode()
    application.refresh_from_db()
    assert application.status == "awaiting_paper" and application.get_status_display() == "待资料确认"
    assert application.conac_approved_at is not None
    assert [(d.tier, d.outcome) for d in review.decisions_of(application)] == [(1, "pass"), (2, "pass")]
    assert not Badge.objects.exists()  # the paper comes first
    actions = [e.action for e in history_of(application)]  # newest first
    assert actions == ["CONAC复审：审核通过", "编办审核：审核通过", "提交申请"]


def test_the_queue_row_shows_what_the_reviewer_checks(client_for, unit, organ_domain, office_user):
    submit(organ_domain, english_domain="hdcsj.gov.cn", home_url="http://hdcsj.gov.cn/")

    text = row_text(client_for(office_user).get(QUEUE).content.decode(), "application-queue", "海淀测试局门户网站")

    for shown in ("网站开办审核", "海淀区测试局", "党政机关", "县级", "海淀区", unit.credit_code, "海淀测试局.政务"):
        assert shown in text, (shown, text)
    assert "hdcsj.gov.cn" in text and "http://hdcsj.gov.cn/" in text and "0个工作日" in text


def test_an_item_waiting_more_than_five_working_days_is_flagged(client_for, unit, organ_domain, office_user):
    old = submit(organ_domain, now=timezone.now() - datetime.timedelta(days=60))
    fresh = submit(live_domain(unit, "海淀测试局二站"))

    html = client_for(office_user).get(QUEUE).content.decode()

    assert "已超过5个工作日" in row_text(html, "application-queue", old.site_name)
    assert "已超过" not in row_text(html, "application-queue", fresh.site_name)


def test_conac_cannot_review_before_the_office(unit, organ_domain, conac_user, client_for):
    application = submit(organ_domain)

    with pytest.raises(review.ReviewError, match="尚未经同级编办审核通过"):
        review.approve(application, actor=conac_user)
    response = client_for(conac_user).post(
        DECIDE, {"ids": [application.public_id], "action": "approve", "confirmed": "1", "opinion": ""}, follow=True
    )
    assert "尚未经同级编办审核通过" in response.content.decode()
    application.refresh_from_db()
    assert application.status == "pending_local" and not Decision.objects.exists()


def test_an_office_of_another_region_cannot_review(
    client_for, unit, organ_domain, other_office_user, province_office_user
):
    application = submit(organ_domain)

    with pytest.raises(review.ReviewError, match="不属于本编办审核"):
        review.approve(application, actor=other_office_user)
    with pytest.raises(review.ReviewError, match="不属于本编办审核"):
        review.approve(application, actor=province_office_user)  # the office above: read-only
    shanghai = client_for(other_office_user)
    assert shanghai.get(reverse("badges:application-detail", args=[application.public_id])).status_code == 404
    assert row_text(shanghai.get(QUEUE).content.decode(), "application-queue", application.site_name) is None
    response = shanghai.post(
        DECIDE, {"ids": [application.public_id], "action": "approve", "confirmed": "1"}, follow=True
    )
    assert "1 份所选申请不存在或不在您的审核范围内" in response.content.decode()
    response = client_for(province_office_user).post(
        DECIDE, {"ids": [application.public_id], "action": "approve", "confirmed": "1"}, follow=True
    )
    assert "不属于本编办审核" in response.content.decode()
    application.refresh_from_db()
    assert application.status == "pending_local" and not Decision.objects.exists()


def test_a_second_approval_at_the_same_tier_is_refused(unit, organ_domain, office_user):
    application = submit(organ_domain)
    colleague = factories.make_staff("hd_staff_2", "110108")
    review.approve(application, actor=office_user)

    with pytest.raises(review.ReviewError, match="不能重复审核"):
        review.approve(application, actor=colleague)
    assert Decision.objects.count() == 1


def test_a_rejection_needs_its_opinion(client_for, unit, organ_domain, office_user):
    application = submit(organ_domain)

    with pytest.raises(review.ReviewError, match="必须填写审核意见"):
        review.reject(application, actor=office_user, opinion="  ")
    response = client_for(office_user).post(
        DECIDE, {"ids": [application.public_id], "action": "reject", "confirmed": "1", "opinion": ""}, follow=True
    )
    assert response.redirect_chain[0][0].startswith(f"{reverse('badges:review-queue')}?form=")  # PRG
    assert "审核不通过时必须填写审核意见" in response.content.decode()
    application.refresh_from_db()
    assert application.status == "pending_local" and not Notice.objects.filter(template="application_rejected")


@pytest.mark.parametrize("tier", ["office", "conac"])
def test_a_rejection_is_told_to_the_contact_with_its_reason(
    tier, unit, organ_domain, office_user, conac_user, django_capture_on_commit_callbacks, mailoutbox, sms_outbox
):
    application = submit(organ_domain, contact_mobile="+8613911112222", contact_email="web@example.cn")
    if tier == "conac":
        review.approve(application, actor=office_user)

    with django_capture_on_commit_callbacks(execute=True):
        review.reject(
            application, actor=conac_user if tier == "conac" else office_user, opinion="网站名称须与单位名称一致"
        )

    application.refresh_from_db()
    assert application.status == "rejected" and application.rejection_reason == "网站名称须与单位名称一致"
    assert [m["to"] for m in sms_outbox] == ["+8613911112222"]
    assert "网站名称须与单位名称一致" in sms_outbox[0]["body"] and "海淀测试局门户网站" in sms_outbox[0]["body"]
    assert [m.to for m in mailoutbox] == [["web@example.cn"]]
    assert "网站名称须与单位名称一致" in mailoutbox[0].body and "审核不通过" in mailoutbox[0].subject
    assert ("CONAC复审" if tier == "conac" else "编办审核") in mailoutbox[0].body


def test_the_unit_reads_the_reason_and_resubmits(client_for, unit, unit_user, organ_domain, office_user, conac_user):
    application = submit(organ_domain)
    review.approve(application, actor=office_user)
    review.reject(application, actor=conac_user, opinion="网站简介过于简单")
    client = client_for(unit_user)

    page = client.get(reverse("badges:website-apply")).content.decode()
    assert "不通过原因：网站简介过于简单" in row_text(page, "applications", application.site_name)
    resubmit = reverse("badges:application-resubmit", args=[application.public_id])
    form_page = client.get(resubmit)
    assert "审核不通过原因：网站简介过于简单" in form_page.content.decode()
    assert form_page.context["form"]["contact_mobile"].value() == "13912345678"

    response = client.post(resubmit, post_data(organ_domain, description="街道政务公开、办事服务与互动交流。"))

    assert response.status_code == 302
    application.refresh_from_db()
    assert (application.status, application.review_round) == ("pending_local", 2)
    assert application.description == "街道政务公开、办事服务与互动交流。"
    assert row_text(client_for(office_user).get(QUEUE).content.decode(), "application-queue", application.site_name)
    review.approve(application, actor=office_user)
    review.approve(application, actor=conac_user)
    assert [(d.round, d.tier, d.outcome) for d in review.decisions_of(application)] == [
        (1, 1, "pass"), (1, 2, "reject"), (2, 1, "pass"), (2, 2, "pass"),
    ]  # fmt: skip


def test_a_resubmission_is_checked_like_a_new_application(client_for, unit_user, organ_domain, office_user):
    application = submit(organ_domain)
    review.reject(application, actor=office_user, opinion="首页地址有误")
    resubmit = reverse("badges:application-resubmit", args=[application.public_id])

    response = client_for(unit_user).post(
        resubmit, post_data(organ_domain, home_url="http://www.example.com/"), follow=True
    )

    assert (
        response.redirect_chain[0][0].startswith(f"{resubmit}?form=")
        and "须在本申请的域名之下" in response.context["form"].errors["home_url"][0]
    )
    application.refresh_from_db()
    assert (application.status, application.review_round) == ("rejected", 1)


def test_only_a_rejected_application_is_resubmitted(client_for, unit_user, organ_domain):
    application = submit(organ_domain)

    response = client_for(unit_user).post(
        reverse("badges:application-resubmit", args=[application.public_id]), post_data(organ_domain), follow=True
    )

    assert "只有审核不通过的申请可以修改后重新提交" in response.content.decode()
    application.refresh_from_db()
    assert application.review_round == 1


def test_an_institutions_badge_is_issued_at_conacs_approval(
    institution, institution_domain, office_user, conac_user, django_capture_on_commit_callbacks, sms_outbox
):
    with django_capture_on_commit_callbacks(execute=True):
        application = approve_both(submit(institution_domain), office_user, conac_user)

    assert application.status == "issued" and application.get_status_display() == "已发放标识"
    badge = Badge.objects.get()
    assert badge.application == application and badge.kind == "blue" and badge.status == "issued"
    assert not application.letter_pdf and not application.form_pdf  # no paper step
    assert any(badge.code in m["body"] for m in sms_outbox)


def test_a_social_organisations_badge_is_blue_and_an_organs_red(
    social_org_domain, organ_domain, office_user, conac_user
):
    approve_both(submit(social_org_domain), office_user, conac_user)
    services.confirm_paper(awaiting_paper(organ_domain, office_user, conac_user), actor=office_user)

    assert Badge.objects.get(unit=social_org_domain.unit).kind == "blue"
    assert Badge.objects.get(unit=organ_domain.unit).kind == "red"


def test_conacs_approval_of_an_organ_asks_for_the_paper(
    organ_domain, office_user, conac_user, django_capture_on_commit_callbacks, sms_outbox, mailoutbox
):
    application = submit(organ_domain)
    review.approve(application, actor=office_user)

    with django_capture_on_commit_callbacks(execute=True):
        review.approve(application, actor=conac_user)

    assert not Badge.objects.exists()
    assert len(sms_outbox) == 1 and "打印申请函和申请表" in sms_outbox[0]["body"]
    assert "北京市海淀区委编办" in sms_outbox[0]["body"]
    assert len(mailoutbox) == 1 and "请报送纸质资料" in mailoutbox[0].subject
    application.refresh_from_db()
    assert application.letter_pdf and application.form_pdf  # made by the task after commit


# --- The paper step ---------------------------------------------------------------------------


@pytest.fixture
def paper(organ_domain, office_user, conac_user):
    return awaiting_paper(organ_domain, office_user, conac_user)


def test_paper_confirmed_issues_exactly_one_badge(client_for, paper, office_user):
    client = client_for(office_user)

    response = client.post(paper_url(paper), {"action": "confirm", "confirmed": "1"}, follow=True)

    badge = Badge.objects.get()
    assert f"已发放网站标识 {badge.code}" in response.content.decode()
    paper.refresh_from_db()
    assert paper.status == "issued" and paper.paper_decided_at is not None
    assert badge.application == paper and badge.kind == "red"
    response = client.post(paper_url(paper), {"action": "confirm", "confirmed": "1"}, follow=True)
    assert "已由其他人员处理或无需资料确认" in response.content.decode()
    with pytest.raises(services.ApplicationError):
        services.confirm_paper(paper, actor=office_user)
    assert Badge.objects.count() == 1
    assert history_of(paper)[0].action == "资料确认，发放标识"


def test_paper_mismatch_needs_a_reason(client_for, paper, office_user):
    with pytest.raises(services.ApplicationError, match="必须填写原因"):
        services.reject_paper(paper, reason=" ", actor=office_user)

    response = client_for(office_user).post(
        paper_url(paper), {"action": "mismatch", "confirmed": "1", "reason": ""}, follow=True
    )

    assert "资料不符时必须填写原因" in response.content.decode()
    paper.refresh_from_db()
    assert paper.status == "awaiting_paper" and not Notice.objects.filter(template="application_paper_mismatch")


def test_paper_mismatch_closes_the_application_and_tells_the_unit(
    client_for, paper, office_user, unit_user, django_capture_on_commit_callbacks, sms_outbox, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(office_user).post(
            paper_url(paper), {"action": "mismatch", "confirmed": "1", "reason": "申请函未加盖公章"}, follow=True
        )

    assert "已标记为资料不符" in response.content.decode()
    paper.refresh_from_db()
    assert (paper.status, paper.paper_reason) == ("paper_mismatch", "申请函未加盖公章")
    assert paper.get_status_display() == "资料不符" and not Badge.objects.exists()
    assert [m["to"] for m in sms_outbox] == [paper.contact_mobile] and "申请函未加盖公章" in sms_outbox[0]["body"]
    assert [m.to for m in mailoutbox] == [[paper.contact_email]] and "申请函未加盖公章" in mailoutbox[0].body
    assert (history_of(paper)[0].action, history_of(paper)[0].reason) == ("资料不符", "申请函未加盖公章")
    page = client_for(unit_user).get(reverse("badges:website-apply")).content.decode()
    assert "资料不符：申请函未加盖公章" in row_text(page, "applications", paper.site_name)
    with pytest.raises(services.ApplicationError):
        services.confirm_paper(paper, actor=office_user)  # closed for good


def test_after_a_mismatch_a_new_application_for_the_site_is_allowed(paper, office_user, organ_domain):
    services.reject_paper(paper, reason="资料不全", actor=office_user)

    again = submit(organ_domain)

    assert again.status == "pending_local" and again.pk != paper.pk


def test_only_the_units_own_office_decides_on_the_paper(
    client_for, paper, conac_user, other_office_user, province_office_user
):
    with pytest.raises(services.ApplicationError, match="只有申报单位的同级编办"):
        services.confirm_paper(paper, actor=province_office_user)
    with pytest.raises(services.ApplicationError, match="只有申报单位的同级编办"):
        services.reject_paper(paper, reason="x", actor=conac_user)
    assert client_for(conac_user).post(paper_url(paper), {"action": "confirm", "confirmed": "1"}).status_code == 403
    assert (
        client_for(other_office_user).post(paper_url(paper), {"action": "confirm", "confirmed": "1"}).status_code == 404
    )
    response = client_for(province_office_user).post(
        paper_url(paper), {"action": "confirm", "confirmed": "1"}, follow=True
    )
    assert "只有申报单位的同级编办" in response.content.decode()
    paper.refresh_from_db()
    assert paper.status == "awaiting_paper" and not Badge.objects.exists()


def test_an_institution_has_no_paper_step(institution_domain, office_user, conac_user):
    application = submit(institution_domain)
    review.approve(application, actor=office_user)

    with pytest.raises(services.ApplicationError):
        services.confirm_paper(application, actor=office_user)
    assert services.generate_documents(application.pk) is False


def test_the_paper_queue_flags_items_waiting_more_than_ten_working_days(
    client_for, unit, paper, office_user, conac_user
):
    fresh = awaiting_paper(live_domain(unit, "海淀测试局二站"), office_user, conac_user)
    WebsiteApplication.objects.filter(pk=paper.pk).update(
        conac_approved_at=timezone.now() - datetime.timedelta(days=40)
    )

    html = client_for(office_user).get(QUEUE).content.decode()

    late = row_text(html, "paper-queue", paper.site_name)
    assert "已超过10个工作日" in late and "资料确认" in late
    assert "已超过" not in row_text(html, "paper-queue", fresh.site_name)
    assert 'id="paper-queue"' not in client_for(conac_user).get(QUEUE).content.decode()


def test_a_paper_item_at_ten_working_days_is_not_yet_flagged(client_for, paper, office_user, monkeypatch):
    # Approved on Friday 2025-09-26: the tenth working day after is Thursday 2025-10-16, counting the
    # 调休 Sunday 09-28 and Saturday 10-11 and skipping 国庆 (10-01..10-08).
    WebsiteApplication.objects.filter(pk=paper.pk).update(
        conac_approved_at=datetime.datetime(2025, 9, 26, 10, tzinfo=timezone.get_current_timezone())
    )
    real = timezone.localdate

    for day, flagged in ((datetime.date(2025, 10, 16), False), (datetime.date(2025, 10, 17), True)):
        monkeypatch.setattr(timezone, "localdate", lambda *a, d=day, **k: real(*a, **k) if a or k else d)
        text = row_text(client_for(office_user).get(QUEUE).content.decode(), "paper-queue", paper.site_name)
        assert ("已超过10个工作日" in text) is flagged, (day, text)


# --- 申请函 and 申请表 --------------------------------------------------------------------------


def stored_files(application):
    _, files = document_storage().listdir("applications")
    return sorted(f for f in files if f.startswith(str(application.public_id)))


def test_the_documents_are_made_once_however_often_the_task_runs(paper):
    assert services.generate_documents(paper.pk) is True
    first = WebsiteApplication.objects.get(pk=paper.pk)

    assert services.generate_documents(paper.pk) is False
    assert tasks.generate_application_documents.delay(paper.pk).get() is False
    assert tasks.generate_application_documents.apply(args=[paper.pk]).get() is False

    again = WebsiteApplication.objects.get(pk=paper.pk)
    assert (again.letter_pdf.name, again.form_pdf.name) == (first.letter_pdf.name, first.form_pdf.name)
    assert stored_files(paper) == [f"{paper.public_id}-form.pdf", f"{paper.public_id}-letter.pdf"]


def test_a_failed_rendering_never_blocks_the_approval_and_is_retried(
    organ_domain, office_user, conac_user, django_capture_on_commit_callbacks, monkeypatch
):
    from conac import pdf

    real, calls = pdf.render_pdf, []

    def flaky(*args, **kwargs):
        calls.append(args[0])
        if len(calls) == 1:
            raise OSError("font cache busy")
        return real(*args, **kwargs)

    monkeypatch.setattr(pdf, "render_pdf", flaky)
    application = submit(organ_domain)
    review.approve(application, actor=office_user)

    with django_capture_on_commit_callbacks(execute=True):
        review.approve(application, actor=conac_user)

    application.refresh_from_db()
    assert application.status == "awaiting_paper" and not application.letter_pdf
    # The task asks Celery to retry any failure; the retry makes both documents.
    task = tasks.generate_application_documents
    assert task.autoretry_for == (Exception,) and task.max_retries >= 3
    assert task.delay(application.pk).get() is True
    application.refresh_from_db()
    assert application.letter_pdf and application.form_pdf
    assert calls == ["badges/letter.html", "badges/letter.html", "badges/form.html"]


def test_a_rendering_that_keeps_failing_leaves_the_approval_standing(
    organ_domain, office_user, conac_user, django_capture_on_commit_callbacks, monkeypatch, client_for, unit_user
):
    from conac import pdf

    real = pdf.render_pdf

    def broken(*args, **kwargs):
        raise OSError("renderer down")

    monkeypatch.setattr(pdf, "render_pdf", broken)
    application = submit(organ_domain)
    review.approve(application, actor=office_user)
    with django_capture_on_commit_callbacks(execute=True):
        review.approve(application, actor=conac_user)

    application.refresh_from_db()
    assert application.status == "awaiting_paper" and not application.letter_pdf
    # Once the renderer is back, 打印申请函 makes the documents on the spot.
    monkeypatch.setattr(pdf, "render_pdf", real)
    response = client_for(unit_user).get(document_url(application, "letter"))
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF")
    assert len(stored_files(application)) == 2


def test_a_missing_document_is_made_alone(paper):
    services.generate_documents(paper.pk)
    application = WebsiteApplication.objects.get(pk=paper.pk)
    letter = application.letter_pdf.name
    application.form_pdf.delete(save=True)

    assert services.generate_documents(paper.pk) is True

    application.refresh_from_db()
    assert application.letter_pdf.name == letter and application.form_pdf
    assert stored_files(paper) == [f"{paper.public_id}-form.pdf", f"{paper.public_id}-letter.pdf"]


def test_the_documents_say_what_the_office_needs(paper, tmp_path):
    services.generate_documents(paper.pk)
    application = WebsiteApplication.objects.get(pk=paper.pk)

    letter = pdftotext(application.letter_pdf.read(), tmp_path, "letter.pdf")
    with application.form_pdf.open("rb") as f:
        form = pdftotext(f.read(), tmp_path, "form.pdf")

    assert "关于申请对网站开办审核和资格复核的函" in letter
    for text in (letter, form):
        assert "海淀区测试局" in text and "海淀测试局.政务" in text and "北京市海淀区委编办" in text
    assert "党政机关网站开办审核和资格复核申请表" in form
    assert "经办人签字" in form and "单位公章" in form


def test_the_documents_go_to_the_unit_and_its_office_only(
    client_for, paper, unit_user, office_user, other_unit_user, other_office_user, province_office_user, conac_user
):
    for user in (unit_user, office_user):
        for document in ("letter", "form"):
            response = client_for(user).get(document_url(paper, document))
            assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
            assert b"".join(response.streaming_content).startswith(b"%PDF")
    for user in (other_unit_user, other_office_user, province_office_user, conac_user):
        for document in ("letter", "form"):
            assert client_for(user).get(document_url(paper, document)).status_code == 404, user
    assert client_for(unit_user).get(document_url(paper, "certificate")).status_code == 404
    assert client_for(None).get(document_url(paper, "letter")).status_code == 302


def test_no_documents_before_conacs_approval(client_for, unit_user, organ_domain, office_user):
    application = submit(organ_domain)
    review.approve(application, actor=office_user)

    assert client_for(unit_user).get(document_url(application, "letter")).status_code == 404
    assert not WebsiteApplication.objects.get(pk=application.pk).letter_pdf


def test_the_detail_page_offers_print_and_paper_buttons_to_the_right_people(
    client_for, paper, unit_user, office_user, conac_user
):
    detail = reverse("badges:application-detail", args=[paper.public_id])

    unit_page = client_for(unit_user).get(detail).content.decode()
    office_page = client_for(office_user).get(detail).content.decode()
    conac_page = client_for(conac_user).get(detail).content.decode()

    assert "打印申请函" in unit_page and "资料确认</button>" not in unit_page
    assert "打印申请函" in office_page and "资料确认</button>" in office_page and "资料不符</button>" in office_page
    assert "打印申请函" not in conac_page and "资料确认</button>" not in conac_page
    for page in (unit_page, office_page, conac_page):
        for shown in ("单位资质", "联系人", "网站名称", "中文域名", paper.unit.credit_code, "编办审核"):
            assert shown in page


# --- A fixed number of queries -----------------------------------------------------------------


def fill(count, units, statuses):
    """``count`` applications per status, each on its own live domain, in a few statements."""
    domains = []
    for n in range(count * len(statuses)):
        unit = units[n % len(units)]
        checked = names.validate_label(f"海淀批量站{n:04d}", suffix=".政务")
        domains.append(
            Domain(
                unit=unit, office_id=unit.office_id, label=checked.label, alabel=checked.alabel, suffix=checked.suffix,
                years=1, status="active", submitted_at=timezone.now(),
            )
        )  # fmt: skip
    domains = Domain.objects.bulk_create(domains)
    for domain in domains:
        domain.unit = next(u for u in units if u.pk == domain.unit_id)
    rows = []
    for n, domain in enumerate(domains):
        status = statuses[n % len(statuses)]
        extra = (
            {"conac_approved_at": timezone.now() - datetime.timedelta(days=n % 30)}
            if status == "awaiting_paper"
            else {}
        )
        rows.append(row(domain, status, submitted_at=timezone.now() - datetime.timedelta(days=n % 30), **extra))
    WebsiteApplication.objects.bulk_create(rows)


def queries_of(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(QUEUE)
    assert response.status_code == 200
    return len(queries), response


@pytest.mark.parametrize("reviewer", ["office", "conac"])
def test_the_queue_costs_the_same_queries_for_10_and_1000_applications(client_for, reviewer, office_user, conac_user):
    client = client_for(office_user if reviewer == "office" else conac_user)
    units = [factories.make_unit(region_code="110108") for _ in range(3)]
    CommonReason.objects.create(text="网站名称不规范")
    statuses = ["pending_local", "pending_conac", "awaiting_paper"]

    fill(10, units, statuses)
    client.get(QUEUE)  # warm the session and content-type caches
    few, response = queries_of(client)
    assert len(response.context["rows"]) == 10

    WebsiteApplication.objects.all().delete()
    Domain.objects.all().delete()
    fill(1000, units, statuses)
    many, response = queries_of(client)

    assert WebsiteApplication.objects.count() == 3000
    assert len(response.context["rows"]) == 20 and response.context["page"].paginator.count == 1000
    if reviewer == "office":
        assert len(response.context["paper_rows"]) == 200
    assert many == few, f"{few} queries for 10 applications, {many} for 1,000"
    assert few <= 15
