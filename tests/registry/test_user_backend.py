"""The sign-in backend reads the user's office and unit with the user: the menu bar names them on
every page without a query of its own."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry.models import Domain, DomainStatus
from tests import factories


def _login(client, username):
    response = client.post("/login/", {"username": username, "password": factories.PASSWORD})
    assert response.status_code == 302
    return client


@pytest.mark.parametrize(
    ("persona", "shown"), [("office_user", "北京市海淀区委编办"), ("unit_user", "同级编办：北京市海淀区委编办")]
)
def test_the_menu_bar_names_the_office_without_a_query_of_its_own(db, request, client, persona, shown):
    user = request.getfixturevalue(persona)
    _login(client, user.username)
    assert client.session["_auth_user_backend"] == "registry.organisations.backends.UserBackend"
    client.get("/")  # warm the caches
    with CaptureQueriesContext(connection) as queries:
        text = client.get("/").content.decode()
    assert shown in text, text[text.index("whoami") : text.index("whoami") + 200]
    sql = [q["sql"] for q in queries.captured_queries]
    assert not [s for s in sql if s.startswith('SELECT "registry_office"') and "LIMIT 21" in s], sql
    user_query = next(s for s in sql if s.startswith('SELECT "registry_user"'))
    assert '"registry_office"' in user_query


def test_an_inactive_user_is_signed_out(client, office_user):
    _login(client, office_user.username)
    office_user.is_active = False
    office_user.save()
    assert client.get("/domains/search/").status_code == 302  # to 登录


def test_status_name_is_the_state_as_users_know_it(unit):
    for state in DomainStatus:
        domain = Domain(unit=unit, office_id=unit.office_id, label="测试", suffix=".政务", years=1, status=state)
        assert domain.status_name == domain.get_status_display() == state.label
