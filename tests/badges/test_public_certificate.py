"""The public 标识证书 page: what it lists, whether the badge is valid, overdue or revoked, the
warning when the visitor came from a site the badge does not belong to, a plain 404 for an
unknown id, nothing of the staff site — and the same facts as the PDF 标识证书."""

import html
import re
import subprocess  # nosec B404

import pytest
from django.test import Client
from django.urls import reverse

from badges import public, queries, services
from badges.hotpath import entries
from tests.badges.helpers import approve_both, at, awaiting_paper, submit

BADGE_HOST = "bszs.conac.cn"


@pytest.fixture(autouse=True)
def _fresh_public_table(settings, tmp_path):
    settings.BADGE_BASE_URL = "https://bszs.conac.cn"
    settings.BADGE_PUBLIC_DIR = str(tmp_path / "badges-public")
    settings.BADGE_PUBLIC_CHECK_INTERVAL = 0
    entries.table.clear()
    yield
    entries.table.clear()


def issue(domain, office_user, conac_user, **overrides):
    if domain.unit.kind == "organ":
        application = awaiting_paper(domain, office_user, conac_user, **overrides)
        return services.confirm_paper(application, actor=office_user, now=at(2025, 9, 26))
    return approve_both(submit(domain, **overrides), office_user, conac_user).badge


@pytest.fixture
def badge(unit, organ_domain, office_user, conac_user):
    unit.address = "北京市海淀区长春桥路1号"
    unit.save(update_fields=["address"])
    return issue(
        organ_domain,
        office_user,
        conac_user,
        site_name="海淀区测试局门户网站",
        english_domain="hd.example.gov.cn",
        functions="负责本区测试工作的统筹协调。",
    )


def page(badge, **headers):
    path = queries.certificate_url(badge).removeprefix("https://bszs.conac.cn")
    return Client().get(path, HTTP_HOST=BADGE_HOST, **headers)


def rows(response):
    """The page's 字段 → 值, as a visitor reads them."""
    text = response.content.decode()
    found = re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", text, flags=re.S)
    return {label: html.unescape(re.sub(r"<br>", " ", value)).strip() for label, value in found}


def statement(response):
    return html.unescape(
        re.search(r'<p class="status [^"]+" role="status">(.*?)</p>', response.content.decode()).group(1)
    )


def test_the_page_lists_what_the_certificate_lists(badge, organ_domain):
    response = page(badge)

    assert response.status_code == 200 and response["Content-Type"] == "text/html; charset=utf-8"
    assert rows(response) == {
        "机构名称": "海淀区测试局",
        "机构类型": "党政机关",
        "机构地址": "北京市海淀区长春桥路1号",
        "机构职能": "负责本区测试工作的统筹协调。",
        "网站名称": "海淀区测试局门户网站",
        "中英文域名": f"{organ_domain.full_name} hd.example.gov.cn",
        "标识编号": badge.code,
        "发放单位": "政务和公益机构域名注册管理中心",
        "发放时间": "2025年9月26日",
        "状态": "有效",
    }
    assert statement(response) == "本标识有效。"
    body = response.content.decode()
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in body  # mobile
    assert 'lang="zh-CN"' in body and "党政机关网站标识" in body
    assert 'src="/static/badges/red.png" width="80" height="80"' in body


def test_the_page_is_public_and_carries_nothing_of_the_staff_site(badge):
    response = page(badge)

    assert not response.cookies and "Set-Cookie" not in response
    assert "Cookie" not in response.get("Vary", "")  # no session was opened
    body = response.content.decode()
    for staff in ("登录", "退出", "网上名称管理", "csrfmiddlewaretoken", "/static/vendor/", "nav"):
        assert staff not in body, staff
    assert response["Content-Security-Policy"].startswith("default-src 'none'; img-src 'self'")
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY" and response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "public, max-age=60" and response["Vary"] == "Referer"
    assert page(badge, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304


def test_an_overdue_badge_says_so_plainly(badge):
    services.Badge.objects.filter(pk=badge.pk).update(status="overdue")
    public.badge_changed()

    response = page(badge)

    deadline = f"{badge.deadline.year}年{badge.deadline.month}月{badge.deadline.day}日"
    assert rows(response)["状态"] == f"有效（逾期未挂标，挂标期限为{deadline}）"
    assert "逾期未挂标" in statement(response) and deadline in statement(response)


def test_a_revoked_badge_says_so_with_the_date(badge):
    services.Badge.objects.filter(pk=badge.pk).update(status="revoked", revoked_at=at(2025, 11, 3))
    public.badge_changed()

    response = page(badge)

    assert rows(response)["状态"] == "已撤销（2025年11月3日）"
    assert statement(response) == "本标识已于2025年11月3日撤销，不再有效。"
    assert 'src="/static/badges/error-red.png"' in response.content.decode()


@pytest.mark.parametrize(
    "referer",
    [
        "http://海淀测试局.政务/",
        "https://www.{alabel}/news/1.html",  # as browsers send it
        "http://hd.example.gov.cn:8080/",
        "https://WWW.HD.EXAMPLE.GOV.CN./a",
        "https://news.hd.example.gov.cn/",
        "https://bszs.conac.cn/certificate/",  # moving about the badge host itself
        "",
        "not a url",
    ],
)
def test_no_warning_from_the_badges_own_sites(badge, referer, organ_domain):
    response = page(badge, HTTP_REFERER=referer.format(alabel=organ_domain.full_alabel))

    assert "不属于它的网站" not in response.content.decode()


@pytest.mark.parametrize(
    ("referer", "shown"),
    [
        ("https://evil.example.com/page", "evil.example.com"),
        ("http://evilhd.example.gov.cn/", "evilhd.example.gov.cn"),  # a bare suffix is not the site
        ("http://hd.example.gov.cn.attacker.test/", "hd.example.gov.cn.attacker.test"),
        ("http://evil海淀测试局.政务/", "evil海淀测试局.政务"),
    ],
)
def test_a_warning_when_the_badge_was_shown_on_a_site_it_does_not_belong_to(badge, referer, shown, organ_domain):
    response = page(badge, HTTP_REFERER=referer.encode().decode("latin-1"))

    body = response.content.decode()
    assert response.status_code == 200
    assert "请注意：该标识显示在不属于它的网站上" in body
    assert f"您是从 {shown}" in body
    assert f"只属于域名 {organ_domain.full_name}、hd.example.gov.cn 下的网站" in body
    assert rows(response)["标识编号"] == badge.code  # the facts are shown all the same


def test_the_warning_escapes_what_the_referer_says(badge):
    body = page(badge, HTTP_REFERER='http://"><script>alert(1)</script>/').content.decode()

    assert "<script>" not in body


def test_an_unknown_id_is_a_plain_404(db):
    response = Client().get("/certificate/" + "0" * 32 + "/", HTTP_HOST=BADGE_HOST)

    assert response.status_code == 404
    assert "未找到该标识证书" in response.content.decode() and not response.cookies
    for path in ("/certificate/short/", "/certificate/" + "G" * 32 + "/"):
        assert Client().get(path, HTTP_HOST=BADGE_HOST).status_code == 404


def test_the_id_is_not_the_code(badge):
    assert Client().get(f"/certificate/{badge.code}/", HTTP_HOST=BADGE_HOST).status_code == 404
    assert badge.code not in badge.certificate_id


# --- The page and the PDF 标识证书 agree -------------------------------------------------------------


def pdf_text(client, badge, tmp_path):
    response = client.get(reverse("badges:badge-certificate", args=[badge.code]))
    assert response.status_code == 200
    path = tmp_path / "certificate.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout  # noqa: S603,S607
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("state", ["valid", "revoked"])
def test_the_page_and_the_pdf_say_the_same(badge, client_for, unit_user, tmp_path, state):
    if state == "revoked":
        services.Badge.objects.filter(pk=badge.pk).update(status="revoked", revoked_at=at(2025, 11, 3))
        public.badge_changed()
        badge.refresh_from_db()

    text = pdf_text(client_for(unit_user), badge, tmp_path)
    shown = rows(page(badge))

    assert len(shown) == 10
    for label, value in shown.items():
        assert label in text, label
        assert re.sub(r"\s+", "", value) in text, (label, value)
    assert ("已撤销（2025年11月3日）" in text) == (state == "revoked")


def test_an_office_edit_of_the_unit_shows_on_the_page_at_once(badge, office_user, django_capture_on_commit_callbacks):
    from registry.organisations import services as unit_services
    from registry.organisations.models import Unit

    assert rows(page(badge))["机构名称"] == badge.unit.name
    unit = Unit.objects.get(pk=badge.unit_id)
    data = {field: getattr(unit, field) for field in unit_services.UNIT_FIELDS}
    data["name"] = "北京市海淀区改名后的单位"
    data["address"] = "北京市海淀区新地址1号"
    with django_capture_on_commit_callbacks(execute=True):
        unit_services.update_unit(unit, unit_data=data, actor=office_user)

    fields = rows(page(badge))
    assert fields["机构名称"] == "北京市海淀区改名后的单位" and fields["机构地址"] == "北京市海淀区新地址1号"


def test_no_warning_from_the_units_red_page_on_the_main_site(organ_domain, office_user, conac_user):
    red = issue(organ_domain, office_user, conac_user, mount_method="redpage", server_ip="", home_url="")
    referer = f"http://localhost/redpage/{organ_domain.unit.public_id}/"
    assert "不属于它的网站" not in page(red, HTTP_REFERER=referer).content.decode()
    assert "不属于它的网站" in page(red, HTTP_REFERER="http://elsewhere.example/").content.decode()
