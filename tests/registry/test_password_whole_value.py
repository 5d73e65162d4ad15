"""The password rule holds for the whole value, nothing is trimmed, everywhere a password is set."""

import pytest
from django.urls import reverse

from registry.models import User
from registry.organisations.validators import validate_password_rule
from tests import factories
from tests.prg import follow_refusals  # noqa: F401  (the fixture)
from tests.registry.test_registration import REGISTER_URL, registration_post

# A refused 新用户注册 is a redirect to the form page (PRG); these tests read that page as the
# browser shows it (tests/prg.py). tests/conac/test_prg.py checks the redirect itself.
pytestmark = pytest.mark.usefixtures("follow_refusals")

BAD = [" Abcd12345 ", "Abcd12345 ", " Abcd12345", "Abcd1234\n", "Abcd\t1234", "Ａbcd12345", "Abcd12345\r\n"]
RULE = "8-16位半角英文和数字混合"


@pytest.mark.parametrize("password", BAD)
def test_the_rule_matches_the_whole_value(password):
    with pytest.raises(Exception, match=RULE):
        validate_password_rule(password)


@pytest.mark.parametrize("password", BAD)
def test_registration_refuses_padded_passwords_and_creates_nothing(db, client, password):
    before = User.objects.count()
    response = client.post(
        REGISTER_URL, registration_post(username="pad_user", password=password, password_confirm=password)
    )
    assert response.status_code == 200
    assert RULE in " ".join(response.context["form"].errors["password"])
    assert User.objects.count() == before


@pytest.mark.parametrize("password", BAD[:4])
def test_reset_password_refuses_padded_passwords(client_for, office_user, unit, password):
    account = factories.unit_user(unit)
    response = client_for(office_user).post(
        reverse("registry:unit-detail", args=[unit.public_id]),
        {"action": "reset", "new_password": password},
        HTTP_HX_REQUEST="true",
    )
    assert RULE in " ".join(response.context["reset_form"].errors["new_password"])
    account.refresh_from_db()
    assert account.check_password(factories.PASSWORD)


@pytest.mark.parametrize("password", BAD[:4])
def test_change_own_password_refuses_padded_passwords(client_for, unit_user, password):
    response = client_for(unit_user).post(
        reverse("registry:change-password"),
        {"old_password": factories.PASSWORD, "new_password": password, "new_password_confirm": password},
    )
    assert RULE in " ".join(response.context["form"].errors["new_password"])
    unit_user.refresh_from_db()
    assert unit_user.check_password(factories.PASSWORD)


def test_a_password_is_stored_exactly_as_typed(client_for, unit_user):
    client_for(unit_user).post(
        reverse("registry:change-password"),
        {"old_password": factories.PASSWORD, "new_password": "Exact12345", "new_password_confirm": "Exact12345"},
    )
    unit_user.refresh_from_db()
    assert unit_user.check_password("Exact12345")


@pytest.mark.parametrize("password", BAD[:4])
def test_the_admin_refuses_padded_passwords(admin_client, unit_user, password):
    url = reverse("admin:auth_user_password_change", args=[unit_user.pk])
    response = admin_client.post(url, {"password1": password, "password2": password, "usable_password": "true"})
    assert response.status_code == 200
    assert RULE in response.content.decode()
    unit_user.refresh_from_db()
    assert unit_user.check_password(factories.PASSWORD)
