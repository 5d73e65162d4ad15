"""For tests written before PRG (conac/forms_state.py): read a refused form as the browser shows it.

A refused POST now answers with a redirect to the form's GET page carrying a one-time key;
``follow_refusals`` makes the test client's ``post`` follow that one redirect, so a test reads
the page the user sees (the form as typed, each error at its field). Other redirects (a success)
are returned as they are. tests/conac/test_prg.py asserts the redirects themselves.
"""

import pytest
from django.test import Client

from conac import forms_state


def _following(post):
    def wrapped(self, path, data=None, *args, **kwargs):
        response = post(self, path, data, *args, **kwargs)
        location = response.get("Location", "") if response.status_code == 302 else ""
        if f"{forms_state.QUERY_PARAM}=" in location and not kwargs.get("follow"):
            shown = self.get(location)
            shown.prg_redirect = location
            return shown
        return response

    return wrapped


@pytest.fixture
def follow_refusals(monkeypatch):
    monkeypatch.setattr(Client, "post", _following(Client.post))
