"""The badge script and image on the badge host: the per-badge data, the shared logic file, headers,
ETags and 304s, unknown codes, the no-JavaScript snippet, and no cookie or staff trace anywhere."""

import json
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse

from badges import public, queries, services
from badges.hotpath import entries
from tests.badges.helpers import approve_both, at, awaiting_paper, submit

BADGE_HOST = "bszs.conac.cn"
DATA = re.compile(r"e=(\{.*?\});e\.s=d\.currentScript")


@pytest.fixture(autouse=True)
def _fresh_public_table(settings, tmp_path):
    settings.BADGE_BASE_URL = "https://bszs.conac.cn"
    settings.BADGE_PUBLIC_DIR = str(tmp_path / "badges-public")
    entries.table.clear()
    yield
    entries.table.clear()


def issue(domain, office_user, conac_user, **overrides):
    """The site's badge, through the real flow (党政机关: both tiers, then 资料确认)."""
    if domain.unit.kind == "organ":
        application = awaiting_paper(domain, office_user, conac_user, **overrides)
        return services.confirm_paper(application, actor=office_user, now=at(2025, 9, 26))
    application = approve_both(submit(domain, **overrides), office_user, conac_user)
    return application.badge


@pytest.fixture
def badge(organ_domain, office_user, conac_user):
    return issue(organ_domain, office_user, conac_user, english_domain="hd.example.gov.cn")


def get(path, host=BADGE_HOST, **headers):
    return Client().get(path, HTTP_HOST=host, **headers)


def script_path(badge):
    return queries.badge_script_url(badge).removeprefix("https://bszs.conac.cn")


def data_of(response):
    body = response.content.decode("ascii")
    return json.loads(DATA.search(body).group(1))


def revoke(badge):
    """撤销 as the public sees it: the state in the database, then the version bump."""
    badge.status = "revoked"
    badge.revoked_at = at(2025, 11, 3)
    badge.save(update_fields=["status", "revoked_at"])
    public.badge_changed()


# --- The data script ------------------------------------------------------------------------------


def test_the_script_is_the_badges_data_and_loads_the_one_shared_logic_file(badge, organ_domain):
    response = get(script_path(badge))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/javascript; charset=utf-8"
    assert response["Cache-Control"] == "public, max-age=300, stale-while-revalidate=3600"
    assert response["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Length"] == str(len(response.content))
    assert re.fullmatch(r'"[0-9a-f]{20}"', response["ETag"])
    assert not response.cookies and "Set-Cookie" not in response and "Vary" not in response
    body = response.content.decode("ascii")  # ASCII only: a GBK page reads it the same
    for banned in ("document.write", "eval(", "innerHTML", "cookie", "sendBeacon", "console"):
        assert banned not in body

    data = data_of(response)
    assert data["code"] == badge.code
    assert data["hosts"] == [organ_domain.full_alabel, "hd.example.gov.cn"]  # pre-converted to ASCII
    assert organ_domain.full_alabel.startswith("xn--") and organ_domain.full_alabel.endswith(".xn--zfr164b")
    assert data["certificate"] == f"https://bszs.conac.cn/certificate/{badge.certificate_id}/"
    assert data["kind"] == "organ" and data["revoked"] is False and data["path"] == ""
    assert data["alt"] == "党政机关网站标识" and data["errorAlt"] == "网站标识与本网站不符"
    assert data["image"] == "https://bszs.conac.cn/static/badges/red.png"
    assert data["errorImage"] == "https://bszs.conac.cn/static/badges/error-red.png"
    assert data["logic"] == "https://bszs.conac.cn/static/badges/badge.js"


def test_a_home_page_with_a_path_limits_the_badge_to_it(organ_domain, office_user, conac_user):
    badge = issue(organ_domain, office_user, conac_user, home_url=f"http://{organ_domain.full_name}/门户/index.html")

    assert data_of(get(script_path(badge)))["path"] == "/%E9%97%A8%E6%88%B7"


def test_an_institution_and_a_social_organisation_get_their_own_blue_badge(
    institution_domain, social_org_domain, office_user, conac_user
):
    institution = data_of(get(script_path(issue(institution_domain, office_user, conac_user))))
    social = data_of(get(script_path(issue(social_org_domain, office_user, conac_user))))

    assert (institution["kind"], institution["alt"]) == ("institution", "事业单位网站标识")
    assert institution["image"].endswith("/badges/blue.png") and institution["errorImage"].endswith("/error-blue.png")
    assert (social["kind"], social["alt"]) == ("social", "社会组织网站标识")
    assert social["image"].endswith("/badges/social.png") and social["errorImage"].endswith("/error-blue.png")


def test_the_same_etag_answers_304_and_head_sends_no_body(badge):
    first = get(script_path(badge))
    etag = first["ETag"]

    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = get(script_path(badge), HTTP_IF_NONE_MATCH=header)
        assert again.status_code == 304 and again.content == b""
        assert again["ETag"] == etag and again["Cache-Control"] == first["Cache-Control"]
        assert again["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert get(script_path(badge), HTTP_IF_NONE_MATCH='"stale"').status_code == 200

    head = Client().head(script_path(badge), HTTP_HOST=BADGE_HOST)
    assert head.status_code == 200 and head.content == b"" and head["Content-Length"] == first["Content-Length"]
    assert Client().post(script_path(badge), HTTP_HOST=BADGE_HOST).status_code == 405


def test_an_unknown_code_answers_a_script_that_draws_and_logs_nothing(db):
    response = get("/js/11/001/0008/99999999/CA110010008999999990001.js")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/javascript; charset=utf-8"
    assert response.content == b"/* CONAC website badge: no such badge */\n"  # a comment: valid, does nothing
    assert response["Cross-Origin-Resource-Policy"] == "cross-origin"
    # Folders that are not the code's digits, or no code at all: the bare 404 of the badge host.
    assert get("/js/11/001/0008/00000000/CA110010008999999990001.js").status_code == 404
    assert get("/js/whatever.js").status_code == 404


def test_a_revoked_badge_says_so_and_shows_the_error_image(badge):
    revoke(badge)

    data = data_of(get(script_path(badge)))

    assert data["revoked"] is True and data["errorAlt"] == "该网站标识已撤销"


def test_the_badge_host_answers_only_the_badge_paths(badge):
    for path in ("/", "/login/", "/admin/", reverse("badges:badge-manage"), "/static/css/conac.css"):
        response = get(path)
        assert response.status_code == 404, path
        assert not response.cookies and b"login" not in response.content.lower()
    # The shared logic file and the images are served there (the staff site's static files are not).
    logic = get("/static/badges/badge.js")
    assert logic.status_code == 200
    assert b"".join(logic.streaming_content) == Path(finders.find("badges/badge.js")).read_bytes()
    assert logic["Cross-Origin-Resource-Policy"] == "cross-origin" and logic["X-Content-Type-Options"] == "nosniff"
    assert get("/static/badges/red.png").status_code == 200


def test_the_staff_sites_hosts_answer_the_badge_paths_too_before_the_session(badge):
    response = get(script_path(badge), host="testserver")

    assert response.status_code == 200 and data_of(response)["code"] == badge.code
    assert "Vary" not in response and not response.cookies  # no session middleware ran


# --- The image endpoint and the no-JavaScript snippet -------------------------------------------


def static_bytes(name):
    return Path(finders.find(f"badges/{name}")).read_bytes()


def test_the_image_endpoint_answers_the_badge_then_its_error_variant_once_revoked(badge):
    url = queries.badge_image_url(badge)
    assert url == f"https://bszs.conac.cn/img/{badge.code}.png"
    path = url.removeprefix("https://bszs.conac.cn")

    response = get(path)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response.content == static_bytes("red.png")
    assert response["Cache-Control"] == "public, max-age=300, stale-while-revalidate=3600"
    assert response["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert get(path, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304

    revoke(badge)
    entries.table.clear()  # (the version check itself: test_public_hotpath)
    assert get(path).content == static_bytes("error-red.png")
    assert get("/img/CA110010008999999990001.png").content == static_bytes("error.png")


def test_the_images_are_the_projects_own_pngs_from_svg_sources():
    folder = Path(django_settings.BASE_DIR) / "static" / "badges"
    for name in ("red", "blue", "social", "error-red", "error-blue", "error"):
        svg = (folder / "src" / f"{name}.svg").read_text(encoding="utf-8")
        png = (folder / f"{name}.png").read_bytes()
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
        assert (width, height) == (160, 160)  # twice the 80×80 the snippet draws
        assert 'viewBox="0 0 80 80"' in svg
    assert "党政机关" in (folder / "src" / "red.svg").read_text(encoding="utf-8")
    assert "事业单位" in (folder / "src" / "blue.svg").read_text(encoding="utf-8")
    assert "社会组织" in (folder / "src" / "social.svg").read_text(encoding="utf-8")


def test_the_no_javascript_snippet_links_the_certificate_around_the_image(badge, client_for, unit_user):
    snippet = queries.badge_static_snippet(badge)

    assert snippet == (
        f'<a href="https://bszs.conac.cn/certificate/{badge.certificate_id}/" target="_blank" rel="noopener" '
        f'referrerpolicy="origin"><img src="https://bszs.conac.cn/img/{badge.code}.png" width="80" height="80" '
        'alt="党政机关网站标识"></a>'
    )
    html = client_for(unit_user).get(reverse("badges:badge-manage")).content.decode()
    assert "无JavaScript时的代码" in html and "复制（无JavaScript）" in html
    assert f"&lt;img src=&quot;https://bszs.conac.cn/img/{badge.code}.png&quot;" in html
    assert f'href="https://bszs.conac.cn/certificate/{badge.certificate_id}/"' in html  # 标识证书页面


# --- The logic file --------------------------------------------------------------------------------


def test_the_logic_file_uses_dom_apis_only_and_is_ascii():
    source = Path(finders.find("badges/badge.js")).read_bytes().decode("ascii")
    code = re.sub(r"/\*.*?\*/|//[^\n]*", "", source, flags=re.S)  # comments may name what it avoids

    for banned in (
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "Function(",
        "cookie",
        "localStorage",
        "sessionStorage",
        "sendBeacon",
        "XMLHttpRequest",
        "fetch(",
        "console",
        'setAttribute("style"',
    ):
        assert banned not in code, banned
    for needed in ("createElement", "appendChild", '"_blank"', '"noopener"', '"origin"', "width = 80", "height = 80"):
        assert needed in code, needed


def test_a_red_page_badge_is_also_at_home_on_its_red_page_on_the_main_site(organ_domain, office_user, conac_user):
    red = issue(organ_domain, office_user, conac_user, mount_method="redpage", server_ip="", home_url="")
    data = data_of(get(script_path(red)))
    path = f"/redpage/{organ_domain.unit.public_id}"
    assert [path] == sorted({p for _, p in data["pages"]})
    assert {name for name, _ in data["pages"]} >= {"localhost", "127.0.0.1"}  # the SITE_HOSTS written out
    assert "*" not in {name for name, _ in data["pages"]}


def test_a_self_hosted_badge_has_no_red_page(badge):
    assert data_of(get(script_path(badge)))["pages"] == []
