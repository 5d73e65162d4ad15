"""Deny by default: every view declares who may use it, and each persona gets exactly that.

The walk below finds every URL pattern of the root URLconf, so a view added later is
checked too: it must declare a rule, and the rule it declares is what the middleware enforces.
The foundation's URLs are also pinned to their exact statuses per persona.
"""

import re
import uuid

import pytest
from django.http import HttpResponse
from django.urls import URLPattern, URLResolver, get_resolver, include, path, reverse

from conac.access import ADMIN_NAMESPACES, AUDIENCES, CONAC, OFFICE, PUBLIC, STAFF, STAFF_OR_ADMIN, UNIT, allow, rule_of
from registry.models import Unit

PERSONAS = ["anonymous", "unit", "other_unit", "office", "other_office", "conac"]
PERSONA_FIXTURES = {
    "unit": "unit_user",
    "other_unit": "other_unit_user",
    "office": "office_user",
    "other_office": "other_office_user",
    "conac": "conac_user",
}


# --- A URLconf for the refusal test: an undeclared view next to the real ones -------------


def undeclared_view(request):
    return HttpResponse("should never be served")


@allow(PUBLIC)
def declared_view(request):
    return HttpResponse("served")


urlpatterns = [
    path("test-undeclared/", undeclared_view),
    path("test-declared/", declared_view),
    path("", include("conac.urls")),
]


# --- Walking the URLconf -------------------------------------------------------------------


def walk(patterns=None, prefix="", namespaces=()):
    """Yield (route, pattern, namespaces) for every URL pattern, recursively."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            extra = (entry.namespace,) if entry.namespace else ()
            yield from walk(entry.url_patterns, route, namespaces + extra)
        else:
            assert isinstance(entry, URLPattern)
            yield route, entry, namespaces


def app_urls():
    return [(route, p, ns) for route, p, ns in walk() if not ADMIN_NAMESPACES.intersection(ns)]


def url_name(pattern, namespaces):
    return ":".join([*namespaces, pattern.name]) if pattern.name else None


def example_url(route, pattern, namespaces, object_kwargs=None):
    """A concrete URL for a pattern: its own objects where given, else made-up identifiers."""
    kwargs = {}
    for key, converter in pattern.pattern.converters.items():
        kind = type(converter).__name__
        if kind == "UUIDConverter":
            kwargs[key] = uuid.uuid4()
        elif kind == "IntConverter":
            kwargs[key] = 987654321
        else:
            kwargs[key] = "zz-unknown"
    kwargs.update(object_kwargs or {})
    name = url_name(pattern, namespaces)
    if name:
        return reverse(name, kwargs=kwargs)
    assert not kwargs, f"unnamed URL pattern with parameters cannot be checked: {route}"
    assert "^" not in route and "(?P" not in route, f"unnamed regex URL pattern: {route}"
    return "/" + route


def test_the_walk_finds_the_foundation_urls():
    names = {url_name(p, ns) for _, p, ns in app_urls()}
    assert set(FOUNDATION_MATRIX) <= names
    admin_routes = [route for route, _, ns in walk() if "admin" in ns]
    assert any(route == "admin/" for route in admin_routes)


def test_every_view_outside_the_admin_declares_an_access_rule():
    undeclared = [route for route, p, ns in app_urls() if rule_of(p.callback) is None]
    assert not undeclared, f"views without @allow(...): {undeclared}"
    bad = [(route, rule_of(p.callback)) for route, p, ns in app_urls() if rule_of(p.callback) not in AUDIENCES]
    assert not bad


def test_allow_refuses_an_unknown_audience():
    with pytest.raises(ValueError):
        allow("everyone")


@pytest.mark.urls("tests.conac.test_access_rules")
@pytest.mark.parametrize("persona", ["anonymous", "unit", "office", "conac", "superuser"])
def test_a_view_that_declares_nothing_is_refused(client_for, request, persona, admin_user):
    user = admin_user if persona == "superuser" else _persona_user(request, persona)
    client = client_for(user)
    response = client.get("/test-undeclared/")
    assert response.status_code == 403
    assert "should never be served" not in response.content.decode()
    assert client.post("/test-undeclared/").status_code == 403
    assert client.get("/test-declared/").content == b"served"


# --- Role gates for every URL, from the rule each view declares ---------------------------

ALLOWED_ROLES = {
    PUBLIC: set(PERSONAS),
    "authenticated": set(PERSONAS) - {"anonymous"},
    UNIT: {"unit", "other_unit"},
    OFFICE: {"office", "other_office"},
    CONAC: {"conac"},
    STAFF: {"office", "other_office", "conac"},
    STAFF_OR_ADMIN: {"office", "other_office", "conac"},
}


def _persona_user(request, persona):
    return None if persona == "anonymous" else request.getfixturevalue(PERSONA_FIXTURES[persona])


def _is_login_redirect(response):
    return response.status_code == 302 and response.url.startswith("/login/")


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_url_lets_in_exactly_the_roles_it_declares(db, client_for, request, persona):
    client = client_for(_persona_user(request, persona))
    wrong = []
    for route, pattern, namespaces in app_urls():
        rule = rule_of(pattern.callback)
        url = example_url(route, pattern, namespaces)
        get = client.get(url)
        if persona in ALLOWED_ROLES[rule]:
            if get.status_code == 403 or _is_login_redirect(get) or get.status_code >= 500:
                wrong.append((url, rule, "GET", get.status_code))
            continue
        expected = 302 if persona == "anonymous" else 403
        for method, response in (("GET", get), ("POST", client.post(url, {}))):
            if response.status_code != expected or (expected == 302 and not _is_login_redirect(response)):
                wrong.append((url, rule, method, response.status_code))
    assert not wrong, f"{persona}: {wrong}"


# --- The foundation's URLs, pinned exactly ---------------------------------------------------

LOGIN = "login"
# URL name → expected GET status per persona (LOGIN = redirected to the login page).
FOUNDATION_MATRIX = {
    #                             anonymous  unit  other_unit office other_office conac
    "home": dict(zip(PERSONAS, [LOGIN, 200, 200, 200, 200, 200], strict=True)),
    "login": dict(zip(PERSONAS, [200, 302, 302, 302, 302, 302], strict=True)),
    "logout": dict(zip(PERSONAS, [405, 405, 405, 405, 405, 405], strict=True)),
    "registry:register": dict(zip(PERSONAS, [200, 302, 302, 302, 302, 302], strict=True)),
    "registry:register-done": dict(zip(PERSONAS, [302, 302, 302, 302, 302, 302], strict=True)),
    "registry:region-widget": dict(zip(PERSONAS, [200, 200, 200, 200, 200, 200], strict=True)),
    "registry:change-password": dict(zip(PERSONAS, [LOGIN, 200, 200, 200, 200, 200], strict=True)),
    "registry:unit-list": dict(zip(PERSONAS, [LOGIN, 403, 403, 200, 200, 403], strict=True)),
    # The unit's own office opens it; another office finds nothing there.
    "registry:unit-detail": dict(zip(PERSONAS, [LOGIN, 403, 403, 200, 404, 403], strict=True)),
    # 双重验证: staff and administrators only; 验证 sends staff with nothing to verify onwards.
    "two-factor": dict(zip(PERSONAS, [LOGIN, 403, 403, 200, 200, 200], strict=True)),
    "two-factor-verify": dict(zip(PERSONAS, [LOGIN, 403, 403, 302, 302, 302], strict=True)),
    "two-factor-recovery-codes": dict(zip(PERSONAS, [LOGIN, 403, 403, 405, 405, 405], strict=True)),
}


@pytest.mark.parametrize("name", list(FOUNDATION_MATRIX))
def test_foundation_access_matrix(client_for, request, unit, name):
    patterns = {url_name(p, ns): (route, p, ns) for route, p, ns in app_urls()}
    route, pattern, namespaces = patterns[name]
    object_kwargs = {"public_id": unit.public_id} if "public_id" in pattern.pattern.converters else {}
    url = example_url(route, pattern, namespaces, object_kwargs)
    got = {}
    for persona in PERSONAS:
        response = client_for(_persona_user(request, persona)).get(url)
        got[persona] = LOGIN if _is_login_redirect(response) else response.status_code
    assert got == FOUNDATION_MATRIX[name]


def test_out_of_scope_unit_is_404_and_the_403_page_is_in_chinese(client_for, unit, other_office_user, unit_user):
    response = client_for(unit_user).get("/units/")
    assert response.status_code == 403 and "您无权访问此页面" in response.content.decode()
    response = client_for(other_office_user).get(f"/units/{unit.public_id}/")
    assert response.status_code == 404
    assert Unit.objects.filter(pk=unit.pk).exists()


def test_admin_is_exempt_but_guarded_by_its_own_checks(client_for, admin_user, office_user):
    assert client_for(admin_user).get("/admin/").status_code == 200
    anonymous = client_for(None).get("/admin/")
    assert anonymous.status_code == 302 and anonymous.url.startswith("/admin/login/")
    office = client_for(office_user).get("/admin/")  # not is_staff: the admin sends it to its login
    assert office.status_code == 302 and "/admin/login/" in office.url


def test_anonymous_is_sent_to_login_with_next(client):
    response = client.get("/account/password/")
    assert response.status_code == 302
    assert re.fullmatch(r"/login/\?next=/account/password/", response.url)
