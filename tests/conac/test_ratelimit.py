"""The rate limits count in the database when no shared cache is configured (RATELIMIT_BACKEND)."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from conac import ratelimit
from conac.models import RateCounter


@pytest.fixture
def database_backend(settings):
    settings.RATELIMIT_BACKEND = "database"


def test_counts_and_waits_in_the_database(db, database_backend):
    assert [ratelimit.count("login-failures", "10.0.0.1", window=600) for _ in range(3)] == [1, 2, 3]
    assert RateCounter.objects.get().hits == 3
    assert ratelimit.wait_seconds("login-failures", "10.0.0.1", limit=4) == 0
    wait = ratelimit.wait_seconds("login-failures", "10.0.0.1", limit=3)
    assert 590 <= wait <= 600
    assert ratelimit.wait_seconds("login-failures", "10.0.0.2", limit=1) == 0


def test_a_finished_window_starts_again_and_is_cleaned_up(db, database_backend):
    ratelimit.count("code", "10.0.0.1", window=60)
    RateCounter.objects.update(ends_at=timezone.now() - datetime.timedelta(seconds=1))
    assert ratelimit.wait_seconds("code", "10.0.0.1", limit=1) == 0
    assert ratelimit.count("code", "10.0.0.1", window=60) == 1
    RateCounter.objects.update(ends_at=timezone.now() - datetime.timedelta(seconds=1))
    assert ratelimit.remove_expired() == 1 and not RateCounter.objects.exists()


def test_login_is_held_off_per_address_through_the_database(db, database_backend, settings, unit_user):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 3
    client = Client(REMOTE_ADDR="10.7.7.7")
    for _ in range(3):
        client.post("/login/", {"username": "nobody", "password": "Wrong12345"})
    response = client.post("/login/", {"username": unit_user.username, "password": "Wrong12345"})
    assert response.status_code == 429 and "本网络地址登录失败次数过多" in response.content.decode()
    assert RateCounter.objects.filter(hits__gte=3).exists()
