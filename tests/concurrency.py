"""What the PostgreSQL concurrency tests share: a small region set and threads released together.

A test module imports the two region fixtures (pytest then applies them, they are autouse)
and calls ``run_together`` with the competing calls.
"""

import threading

import pytest
from django.db import connection

from registry.organisations.regions import load_regions

# The personas' regions only: a transactional test flushes every table when it ends, and
# loading these few takes milliseconds where the whole tree takes seconds.
PERSONA_REGIONS = "110000 北京市\n110108 海淀区\n310000 上海市\n"


@pytest.fixture(scope="module", autouse=True)
def _whole_tree_back_after_module(django_db_blocker):
    # Module scope: torn down after the last test's flush, so later tests find every region.
    yield
    with django_db_blocker.unblock():
        load_regions()


@pytest.fixture(autouse=True)
def _persona_regions(transactional_db, tmp_path):
    if connection.vendor != "postgresql":
        pytest.fail("the concurrency tests need PostgreSQL (set DATABASE_URL)")
    path = tmp_path / "divisions.txt"
    path.write_text(PERSONA_REGIONS, encoding="utf-8")
    load_regions(path)


def run_together(*calls):
    """Run each call in its own thread, all released at once; return [(ok, value or exception)]."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait(timeout=10)
            results[index] = (True, call())
        except Exception as exc:  # noqa: BLE001 - the test inspects what each thread got
            results[index] = (False, exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck (deadlock?)"
    return results


def split(results):
    """(values of the calls that succeeded, exceptions of those that failed)."""
    return [v for ok, v in results if ok], [v for ok, v in results if not ok]
