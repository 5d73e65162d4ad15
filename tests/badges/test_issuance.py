"""Issuing the badge: the code ("CA" + 2-digit province, 3-digit area, 4-digit county, 8-digit
unit number, 4-digit site sequence), unique forever (never reused after a revocation), the
kind by unit kind, an opaque certificate id, the deadline 5 working days after issue by
China's calendar (holidays skipped, 调休 working days counted), the SMS and email with code
and deadline, 标识管理 with the snippet, and the 标识证书."""

import datetime
import re
import subprocess  # nosec B404

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from badges import queries, services
from badges.models import Badge, WebsiteApplication
from conac.audit import history_of
from conac.workdays import add_workdays
from registry.models import Unit
from tests import factories
from tests.badges.helpers import approve_both, at, awaiting_paper, live_domain, submit

CODE = re.compile(r"^CA\d{21}$")


def issue(domain, office_user, conac_user, *, now=None):
    """The site's badge: both tiers, then (党政机关) 资料确认 at ``now``."""
    if domain.unit.kind == "organ":
        return services.confirm_paper(awaiting_paper(domain, office_user, conac_user), actor=office_user, now=now)
    approve_both(submit(domain), office_user, conac_user)
    return Badge.objects.get(application__domain=domain, status="issued")


# --- The code ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("region_code", "level", "digits"),
    [
        ("110108", "county", "110010008"),  # 北京市海淀区
        ("110000", "province", "110000000"),  # 北京市
        ("310000", "province", "310000000"),  # 上海市
        ("440300", "prefecture", "440030000"),  # 深圳市
        ("440305", "county", "440030005"),  # 深圳市南山区
        ("653130", "county", "650310030"),  # 喀什地区巴楚县
    ],
)
def test_region_digits_follow_the_gb2260_code(db, region_code, level, digits):
    unit = factories.make_unit(region_code=region_code, level=level)

    assert services.region_digits(unit) == digits
    assert len(digits) == 9


def test_a_central_unit_has_province_10_and_zeros(db):
    unit = factories.make_unit(region_code="110000", level="central")

    assert services.region_digits(unit) == "100000000"


def test_the_code_is_ca_region_unit_number_and_site_sequence(unit, organ_domain, office_user, conac_user):
    badge = issue(organ_domain, office_user, conac_user)

    assert CODE.match(badge.code)
    assert badge.code == f"CA110010008{unit.pk:08d}0001"
    assert (badge.code[2:4], badge.code[4:7], badge.code[7:11]) == ("11", "001", "0008")
    assert int(badge.code[11:19]) == unit.pk and badge.site_sequence == 1
    assert badge.code == services.badge_code(Unit.objects.get(pk=unit.pk), 1)


def test_a_units_second_site_gets_the_next_sequence(unit, organ_domain, office_user, conac_user, other_unit):
    first = issue(organ_domain, office_user, conac_user)
    neighbour = issue(live_domain(other_unit, "海淀另一单位"), office_user, conac_user)
    second = issue(live_domain(unit, "海淀测试局二站"), office_user, conac_user)

    assert (first.site_sequence, second.site_sequence, neighbour.site_sequence) == (1, 2, 1)
    assert second.code == first.code[:-4] + "0002"
    assert neighbour.code[11:19] == f"{other_unit.pk:08d}" != first.code[11:19]


def test_a_revoked_code_is_never_given_again(unit, organ_domain, office_user, conac_user):
    revoked = issue(organ_domain, office_user, conac_user)
    Badge.objects.filter(pk=revoked.pk).update(status="revoked")

    # The site may apply again (网站开办审核: no live badge now), and gets a new code.
    again = issue(organ_domain, office_user, conac_user)

    assert again.code != revoked.code and again.site_sequence == 2
    assert Badge.objects.filter(code=revoked.code).count() == 1
    assert Badge.objects.get(pk=revoked.pk).status == "revoked"
    assert set(Badge.objects.values_list("code", flat=True)) == {revoked.code, again.code}


def test_an_institutions_code_after_a_revocation_is_new_too(institution, institution_domain, office_user, conac_user):
    revoked = issue(institution_domain, office_user, conac_user)
    Badge.objects.filter(pk=revoked.pk).update(status="revoked")

    again = issue(institution_domain, office_user, conac_user)

    assert again.code == revoked.code[:-4] + "0002" and again.kind == "blue"


def test_the_database_keeps_codes_unique_and_well_formed(unit, organ_domain, office_user, conac_user):
    badge = issue(organ_domain, office_user, conac_user)
    other = awaiting_paper(live_domain(unit, "海淀测试局二站"), office_user, conac_user)
    fields = {
        "unit": unit, "office_id": unit.office_id, "application": other, "kind": "red", "site_name": "x",
        "domain": other.domain, "mount_method": "self", "issued_at": badge.issued_at, "deadline": badge.deadline,
    }  # fmt: skip

    for code, sequence in ((badge.code, 9), ("CA123", 9), ("CA11001000800000001000X", 9), (badge.code[:-1] + "9", 1)):
        with pytest.raises(IntegrityError), transaction.atomic():
            Badge.objects.create(code=code, site_sequence=sequence, **fields)


def test_the_code_refuses_numbers_that_do_not_fit(unit):
    with pytest.raises(services.ApplicationError):
        services.badge_code(unit, 10_000)


def test_the_certificate_id_is_opaque(unit, organ_domain, office_user, conac_user):
    first = issue(organ_domain, office_user, conac_user)
    second = issue(live_domain(unit, "海淀测试局二站"), office_user, conac_user)

    for badge in (first, second):
        assert re.fullmatch(r"[0-9a-f]{32}", badge.certificate_id)
        assert badge.code[2:] not in badge.certificate_id and str(unit.pk) not in badge.certificate_id[:8]
    assert first.certificate_id != second.certificate_id


def test_the_badge_copies_the_site_and_is_audited(unit, organ_domain, office_user, conac_user):
    badge = issue(organ_domain, office_user, conac_user)

    application = WebsiteApplication.objects.get(pk=badge.application_id)
    assert (badge.site_name, badge.domain, badge.home_url, badge.mount_method) == (
        application.site_name, organ_domain, application.home_url, application.mount_method,
    )  # fmt: skip
    assert badge.office_id == unit.office_id and badge.status == "issued"
    entry = history_of(badge)[0]
    assert (entry.action, entry.data["code"]) == ("发放标识", badge.code)


# --- The deadline -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("issued", "deadline"),
    [
        # Friday before 国庆 2025: the 调休 Sunday 09-28 counts, 10-01..10-08 do not.
        (at(2025, 9, 26), datetime.date(2025, 10, 10)),
        # The last day before 国庆: 10-09, 10-10, the 调休 Saturday 10-11, 10-13, 10-14.
        (at(2025, 9, 30), datetime.date(2025, 10, 14)),
        # Late in the evening, Beijing time, is still that day (15:30 UTC).
        (at(2025, 9, 30, 23), datetime.date(2025, 10, 14)),
        # An ordinary week: Monday → the next Monday.
        (at(2025, 11, 3), datetime.date(2025, 11, 10)),
        # 春节 2026: 02-13, the 调休 Saturday 02-14, then 02-15..02-23 off: 02-24, 02-25, 02-26.
        (at(2026, 2, 12), datetime.date(2026, 2, 26)),
    ],
)
def test_the_deadline_is_five_working_days_after_issue(organ_domain, office_user, conac_user, issued, deadline):
    badge = issue(organ_domain, office_user, conac_user, now=issued)

    assert badge.issued_at == issued
    assert badge.deadline == deadline == add_workdays(issued, 5)


def test_an_institutions_deadline_counts_from_conacs_approval(institution_domain, office_user, conac_user):
    badge = issue(institution_domain, office_user, conac_user)

    assert badge.deadline == add_workdays(badge.issued_at, 5)


def test_the_sms_and_email_carry_the_code_and_the_deadline(
    organ_domain, office_user, conac_user, django_capture_on_commit_callbacks, sms_outbox, mailoutbox
):
    application = awaiting_paper(
        organ_domain, office_user, conac_user, contact_mobile="+8613933334444", contact_email="web@example.cn"
    )

    with django_capture_on_commit_callbacks(execute=True):
        badge = services.confirm_paper(application, actor=office_user, now=at(2025, 9, 26))

    assert [m["to"] for m in sms_outbox] == ["+8613933334444"]
    assert badge.code in sms_outbox[0]["body"] and "2025年10月10日" in sms_outbox[0]["body"]
    assert "</body>" in sms_outbox[0]["body"]
    assert [m.to for m in mailoutbox] == [["web@example.cn"]]
    mail = mailoutbox[0]
    assert badge.code in mail.subject and "2025年10月10日" in mail.subject
    assert badge.code in mail.body and "2025年10月10日" in mail.body and "复制代码" in mail.body


def test_nothing_is_sent_when_the_issue_rolls_back(
    organ_domain, office_user, conac_user, django_capture_on_commit_callbacks, sms_outbox, monkeypatch
):
    application = awaiting_paper(organ_domain, office_user, conac_user)

    def broken(*args, **kwargs):
        raise RuntimeError("audit down")

    monkeypatch.setattr(services.audit, "record", broken)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        services.confirm_paper(application, actor=office_user)

    assert not Badge.objects.exists() and sms_outbox == []
    assert WebsiteApplication.objects.get(pk=application.pk).status == "awaiting_paper"


# --- 标识管理 and 标识证书 ------------------------------------------------------------------------


def test_badge_management_lists_the_units_badges_with_their_snippets(
    client_for, unit, unit_user, organ_domain, office_user, conac_user, other_unit_user
):
    badge = issue(organ_domain, office_user, conac_user, now=at(2025, 9, 26))

    html = client_for(unit_user).get(reverse("badges:badge-manage")).content.decode()

    assert f"标识编号 {badge.code}" in html and "海淀测试局.政务" in html and "2025-10-10" in html
    assert "已发放" in html and "复制代码" in html and "标识证书" in html
    script = f"https://bszs.conac.cn/js/11/001/0008/{unit.pk:08d}/{badge.code}.js"
    assert queries.badge_snippet(badge) == (
        f'<span id="_ideConac"></span><script type="text/javascript" src="{script}"></script>'
    )
    assert "&lt;script type=&quot;text/javascript&quot; src=&quot;" + script in html
    assert badge.code not in client_for(other_unit_user).get(reverse("badges:badge-manage")).content.decode()


def test_the_certificate_is_a_pdf_with_what_the_manual_lists(
    client_for, unit, unit_user, organ_domain, office_user, conac_user, tmp_path
):
    badge = issue(organ_domain, office_user, conac_user, now=at(2025, 9, 26))

    response = client_for(unit_user).get(reverse("badges:badge-certificate", args=[badge.code]))

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    path = tmp_path / "certificate.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout  # noqa: S603,S607
    text = text.replace(" ", "")  # the title is letter-spaced
    for shown in ("标识证书", "海淀区测试局", "党政机关", "测试路1号", "负责本辖区有关工作", "海淀测试局门户网站"):
        assert shown in text, shown
    for shown in ("海淀测试局.政务", badge.code, "政务和公益机构域名注册管理中心", "2025年9月26日", "有效"):
        assert shown in text, shown


def test_a_recheck_confirms_the_existing_badge_and_issues_no_second_code(organ_domain, office_user, conac_user):
    from badges.models import ApplicationKind
    from conac.models import Notice

    opening = submit(organ_domain)
    approve_both(opening, office_user, conac_user)
    first = services.confirm_paper(opening, actor=office_user)

    recheck = submit(organ_domain, kind=ApplicationKind.RECHECK)
    approve_both(recheck, office_user, conac_user)
    confirmed = services.confirm_paper(recheck, actor=office_user)

    recheck.refresh_from_db()
    assert confirmed.pk == first.pk
    assert recheck.status == "issued" and recheck.confirmed_badge_id == first.pk
    assert Badge.objects.filter(domain=organ_domain).count() == 1
    notice = Notice.objects.get(template="application_rechecked", channel="sms")
    assert first.code in notice.body and "继续有效" in notice.body
