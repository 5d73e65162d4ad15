"""网上名称管理——域名申请: the name rules as a unit meets them, each at its field, and re-submission."""

import idna
import pytest
from django.db import IntegrityError, transaction

from conac.audit import history_of
from registry.domains import names
from registry.models import Domain, DomainStatus, ReservedName, UnitKind
from review import services as review
from tests import factories

APPLY = "/domains/apply/"
# 22 Chinese characters whose A-label is exactly one octet too long (64).
LABEL_64_OCTETS = "中华人民共和国国家发展和改革委员会办公厅信一"


def post(client, label, suffix=".政务", years="1"):
    return client.post(APPLY, {"label": label, "suffix": suffix, "years": years}, follow=True)


def assert_refused_at(response, field, expected, to=APPLY):
    """PRG: redirected back to 域名申请 (a GET), the Chinese error at ``field`` and on the page, nothing created."""
    assert response.redirect_chain[0][0].startswith(f"{to}?form=")
    errors = response.context["form"].errors
    assert field in errors, errors
    assert any(expected in message for message in errors[field]), errors[field]
    page = response.content.decode()
    assert expected in page
    assert "alert-success" not in page


@pytest.fixture
def applicant(client_for, unit_user):
    return client_for(unit_user)


# --- Good names -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "label"),
    [
        ("海淀测试局", "海淀测试局"),
        ("  海淀测试局  ", "海淀测试局"),
        ("海淀测试局.政务", "海淀测试局"),  # the suffix typed into the name is dropped
        ("海淀ＡＢＣ局", "海淀abc局"),  # full-width Latin folded (UTS 46)
        ("海淀ABC局", "海淀abc局"),  # upper case folded
        ("海淀-12局", "海淀-12局"),
        (idna.encode("海淀测试局").decode(), "海淀测试局"),  # an A-label typed in is stored as Unicode
    ],
)
def test_a_good_name_is_submitted_for_review(applicant, unit, typed, label):
    response = post(applicant, typed, years="3")
    assert response.redirect_chain == [(APPLY, 302)]
    domain = Domain.objects.get(unit=unit)
    assert (domain.label, domain.suffix, domain.years) == (label, ".政务", 3)
    assert domain.alabel == idna.encode(label).decode()
    assert domain.status == DomainStatus.PENDING_LOCAL
    assert domain.office == unit.office
    entry = history_of(domain).get()
    assert (entry.action, entry.to_state) == ("域名申请", "待审核")

    page = applicant.get(APPLY).content.decode()
    assert f"{label}.政务" in page and "待审核" in page


def test_an_institution_applies_under_gongyi(db, client_for):
    institution = factories.make_unit(kind=UnitKind.INSTITUTION, region_code="110108")
    response = post(client_for(factories.unit_user(institution)), "海淀医院", suffix=".公益")
    assert response.redirect_chain == [(APPLY, 302)]
    domain = Domain.objects.get(unit=institution)
    assert domain.full_name == "海淀医院.公益"
    assert domain.full_alabel == f"{idna.encode('海淀医院').decode()}.xn--55qw42g"


def test_the_form_offers_the_units_own_suffix_first(applicant):
    page = applicant.get(APPLY)
    assert page.status_code == 200
    assert page.context["form"]["suffix"].value() == ".政务"
    text = page.content.decode()
    for label in ("域名", "域名后缀", "注册年限", "提交"):
        assert label in text


# --- Bad names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("-海淀测试局", "不能以连字符“-”开头或结尾"),
        ("海淀测试局-", "不能以连字符“-”开头或结尾"),
        ("ab--海淀", "第3、4位不能同时为连字符“--”"),
        ("海淀 测试局", "域名不能包含空格"),
        ("海淀、测试局", "域名不能包含“、”"),
        ("海淀测试局😀", "域名不能包含"),
        ("海淀_测试局", "域名不能包含“_”"),
        (LABEL_64_OCTETS, "不能超过63个字节"),
        ("海" * 32, "不能超过31个字符"),
        ("海淀.测试局", "只能注册一级域名"),
        ("xn--zz", "不是有效的国际化域名编码"),
        ("海淀测试局.公益", "与所选域名后缀“.政务”不一致"),
        ("", "请填写域名"),
        ("   ", "请填写域名"),
    ],
)
def test_a_bad_name_is_refused_at_the_domain_field(applicant, typed, expected):
    assert_refused_at(post(applicant, typed), "label", expected)
    assert not Domain.objects.exists()


def test_the_64_octet_example_is_right_at_the_limit():
    # One character less (A-label ≤ 63 octets) passes: the test above exercises exactly the octet rule.
    assert len("xn--" + LABEL_64_OCTETS.encode("punycode").decode()) == 64
    assert names.validate_label(LABEL_64_OCTETS[:-1], suffix=".政务").alabel


def test_an_organ_cannot_choose_gongyi(applicant):
    assert_refused_at(post(applicant, "海淀测试局", suffix=".公益"), "suffix", "党政机关只能注册.政务域名")
    assert not Domain.objects.exists()


def test_an_institution_cannot_choose_zhengwu(db, client_for):
    institution = factories.make_unit(kind=UnitKind.SOCIAL_ORG, region_code="110108")
    response = post(client_for(factories.unit_user(institution)), "海淀协会", suffix=".政务")
    assert_refused_at(response, "suffix", "事业单位和社会组织只能注册.公益域名")
    assert not Domain.objects.exists()


def test_an_unknown_suffix_is_refused(applicant):
    assert_refused_at(post(applicant, "海淀测试局", suffix=".com"), "suffix", "请选择有效的域名后缀")
    assert not Domain.objects.exists()


@pytest.mark.parametrize("years", ["0", "11", "abc", "", "-1", "1.5"])
def test_years_outside_one_to_ten_are_refused(applicant, years):
    response = post(applicant, "海淀测试局", years=years)
    expected = "请选择注册年限" if years == "" else "注册年限须为1至10年"
    assert_refused_at(response, "years", expected)
    assert not Domain.objects.exists()


def test_a_live_name_of_another_unit_is_a_duplicate(applicant, other_unit):
    factories.make_domain(other_unit, "海淀测试局", status=DomainStatus.AWAITING_PAYMENT)
    assert_refused_at(post(applicant, "海淀测试局"), "label", "“海淀测试局.政务”已被注册或正在申请中")
    assert Domain.objects.count() == 1


def test_the_units_own_pending_name_is_a_duplicate_too(applicant, unit):
    assert post(applicant, "海淀测试局").redirect_chain == [(APPLY, 302)]
    applicant.get(APPLY)  # shows (and so clears) the success message
    assert_refused_at(post(applicant, "海淀测试局"), "label", "已被注册或正在申请中")
    assert Domain.objects.filter(unit=unit).count() == 1


def test_the_same_label_under_the_other_suffix_is_not_a_duplicate(applicant, unit):
    institution = factories.make_unit(kind=UnitKind.INSTITUTION, region_code="110108")
    factories.make_domain(institution, "海淀测试局")  # .公益
    assert post(applicant, "海淀测试局").redirect_chain == [(APPLY, 302)]
    assert Domain.objects.get(unit=unit).full_name == "海淀测试局.政务"


def test_a_variant_held_by_another_unit_is_refused(applicant, other_unit):
    simplified = "海淀区政务服务中心"
    traditional = next(v for v in sorted(names.variants_of(simplified)) if "務" in v)
    factories.make_domain(other_unit, traditional)
    response = post(applicant, simplified)
    assert_refused_at(response, "label", f"简繁体变体“{traditional}.政务”已由其他单位注册或正在申请中")
    assert Domain.objects.count() == 1


def test_a_variant_held_by_a_rejected_application_does_not_block(applicant, other_unit, unit):
    factories.make_domain(other_unit, "海淀區政務服務中心", status=DomainStatus.REJECTED)
    assert post(applicant, "海淀区政务服务中心").redirect_chain == [(APPLY, 302)]
    assert Domain.objects.filter(unit=unit).count() == 1


@pytest.mark.parametrize("reserved_suffix", [".政务", ""])
def test_a_reserved_name_is_refused(applicant, reserved_suffix):
    ReservedName.objects.create(label="国务院", suffix=reserved_suffix)
    assert_refused_at(post(applicant, "国务院"), "label", "“国务院.政务”为保留名称，不能申请")
    # Reserving a name also reserves its traditional spelling.
    assert_refused_at(post(applicant, "國務院"), "label", "为保留名称")
    assert not Domain.objects.exists()


def test_a_name_reserved_under_the_other_suffix_only_is_free(applicant, unit):
    ReservedName.objects.create(label="国务院", suffix=".公益")
    assert post(applicant, "国务院").redirect_chain == [(APPLY, 302)]
    assert Domain.objects.get(unit=unit).label == "国务院"


@pytest.mark.parametrize("status", [DomainStatus.REJECTED, DomainStatus.DELETED])
def test_a_rejected_or_deleted_name_can_be_applied_for_again(applicant, unit, other_unit, status):
    factories.make_domain(other_unit, "海淀测试局", status=status)
    factories.make_domain(unit, "海淀测试局", status=status)
    assert post(applicant, "海淀测试局").redirect_chain == [(APPLY, 302)]
    assert Domain.objects.live().get(label="海淀测试局").unit == unit


# --- The database constraint ---------------------------------------------------------------


def test_the_database_refuses_a_second_live_row_with_the_same_name(unit, other_unit):
    factories.make_domain(unit, "海淀测试局", status=DomainStatus.ACTIVE)
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.make_domain(other_unit, "海淀测试局")
    # Rejected and deleted rows may repeat a live name.
    factories.make_domain(other_unit, "海淀测试局", status=DomainStatus.REJECTED)
    factories.make_domain(other_unit, "海淀测试局", status=DomainStatus.DELETED)
    assert Domain.objects.filter(label="海淀测试局").count() == 3


def test_the_database_refuses_years_outside_one_to_ten(unit):
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.make_domain(unit, "海淀测试局", years=11)


# --- The unit's list and re-submission --------------------------------------------------------


def test_the_unit_sees_the_reason_and_resubmits_a_rejected_application(applicant, unit, office_user):
    post(applicant, "海淀测试局")
    domain = Domain.objects.get(unit=unit)
    review.reject(domain, actor=office_user, opinion="请使用单位规范简称")

    page = applicant.get(APPLY).content.decode()
    assert "审核不通过" in page and "请使用单位规范简称" in page
    resubmit_url = f"/domains/{domain.public_id}/resubmit/"
    assert resubmit_url in page

    form_page = applicant.get(resubmit_url)
    assert form_page.status_code == 200
    assert form_page.context["form"]["label"].value() == "海淀测试局"
    assert "请使用单位规范简称" in form_page.content.decode()

    # A bad correction is refused at the field and changes nothing.
    assert_refused_at(
        applicant.post(resubmit_url, {"label": "-海淀", "suffix": ".政务", "years": "2"}, follow=True),
        "label",
        "连字符",
        to=resubmit_url,
    )
    domain.refresh_from_db()
    assert (domain.status, domain.review_round, domain.label) == (DomainStatus.REJECTED, 1, "海淀测试局")

    response = applicant.post(resubmit_url, {"label": "海淀区测试局", "suffix": ".政务", "years": "2"})
    assert response.status_code == 302
    domain.refresh_from_db()
    assert (domain.status, domain.review_round, domain.label, domain.years) == (
        DomainStatus.PENDING_LOCAL,
        2,
        "海淀区测试局",
        2,
    )
    assert domain.alabel == idna.encode("海淀区测试局").decode()
    # The earlier decision stays in the history shown to the unit.
    detail = applicant.get(f"/domains/{domain.public_id}/").content.decode()
    assert "请使用单位规范简称" in detail and "第1次" in detail


def test_resubmitting_keeps_its_own_name_but_not_another_units(applicant, unit, other_unit, office_user):
    domain = factories.make_domain(unit, "海淀测试局", status=DomainStatus.REJECTED)
    factories.make_domain(other_unit, "海淀另一局")
    url = f"/domains/{domain.public_id}/resubmit/"
    assert_refused_at(
        applicant.post(url, {"label": "海淀另一局", "suffix": ".政务", "years": "1"}, follow=True),
        "label",
        "已被注册",
        to=url,
    )
    assert applicant.post(url, {"label": "海淀测试局", "suffix": ".政务", "years": "1"}).status_code == 302
    domain.refresh_from_db()
    assert domain.status == DomainStatus.PENDING_LOCAL


def test_a_pending_application_cannot_be_resubmitted_from_the_page(applicant, unit):
    domain = factories.make_domain(unit, "海淀测试局")
    response = applicant.post(
        f"/domains/{domain.public_id}/resubmit/", {"label": "海淀新局", "suffix": ".政务", "years": "1"}, follow=True
    )
    assert "只有审核不通过的申请可以修改后重新提交" in response.content.decode()
    domain.refresh_from_db()
    assert (domain.label, domain.review_round) == ("海淀测试局", 1)


def test_my_domains_lists_state_and_expiry(client_for, unit_user, unit, other_unit):
    import datetime

    factories.make_domain(unit, "海淀测试局", status=DomainStatus.ACTIVE, expires_on=datetime.date(2027, 3, 31))
    factories.make_domain(unit, "海淀待审局")
    factories.make_domain(other_unit, "别人的域名")
    page = client_for(unit_user).get("/domains/mine/").content.decode()
    assert "海淀测试局.政务" in page and "注册成功" in page and "2027-03-31" in page
    assert "海淀待审局.政务" in page and "待审核" in page
    assert "别人的域名" not in page
