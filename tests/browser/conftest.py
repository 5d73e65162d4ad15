"""Browser tests run against pytest-django's ``live_server``.

``live_server`` makes each test transactional, and Django flushes every table when such a
test ends, the region tree and offices included. The tree is loaded once per session
(tests/conftest.py), so it is put back here: before each browser test that finds it gone,
and once after the last browser test. pytest-django runs transactional tests after all
others, so the tests that need the tree after this module are transactional ones.
"""

import pytest
from django.db import connection

from registry.organisations.regions import load_regions


@pytest.fixture(scope="module", autouse=True)
def _regions_back_after_module(django_db_blocker):
    # Module scope: torn down after the last test's flush, which a function fixture is not.
    yield
    with django_db_blocker.unblock():
        load_regions()
        # Under Playwright's event loop this teardown gets a connection of its own; left
        # open, it keeps PostgreSQL from dropping the test database at the end.
        connection.close()


@pytest.fixture(autouse=True)
def _regions_present(transactional_db):
    load_regions()  # idempotent: a no-op when the previous flush did not run


@pytest.fixture
def page(page):
    # Fail in seconds, not the default 30, when a label or a response is missing.
    page.set_default_timeout(5_000)
    return page
