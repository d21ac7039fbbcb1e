"""Rate limits behind a reverse proxy: which address counts, and the deploy
check that warns when production trusts a proxy but counts none."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.cache import cache
from django.test import RequestFactory

from core.checks import trusted_proxy_count_set_behind_a_proxy
from core.ratelimit import allow, client_address

ROOT = Path(__file__).resolve().parent.parent.parent

#: A request that reached the app through two proxies, from a client who put
#: a made-up address of their own in X-Forwarded-For first.
SPOOFED = "6.6.6.6"
CLIENT = "203.0.113.7"
EDGE_PROXY = "198.51.100.2"
LAST_PROXY = "10.0.0.5"


def _request(forwarded: str | None = f"{SPOOFED}, {CLIENT}, {EDGE_PROXY}"):
    extra = {"REMOTE_ADDR": LAST_PROXY}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().post("/sign-up/1/", **extra)


@pytest.mark.parametrize(
    ("proxies", "expected"),
    [
        (0, LAST_PROXY),  # trusts nobody: the connection's own address
        (1, EDGE_PROXY),  # the address the one proxy appended
        (2, CLIENT),  # the address the outer proxy saw, never the spoofed one
    ],
)
def test_the_address_counted_trusts_only_the_configured_proxies(
    settings, proxies, expected
):
    settings.GATHER_TRUSTED_PROXY_COUNT = proxies
    assert client_address(_request()) == expected


@pytest.mark.parametrize("proxies", [1, 2])
def test_a_short_or_missing_forwarded_header_falls_back_to_the_connection(
    settings, proxies
):
    settings.GATHER_TRUSTED_PROXY_COUNT = proxies
    assert client_address(_request(forwarded=None)) == LAST_PROXY
    if proxies == 2:
        assert client_address(_request(forwarded=CLIENT)) == LAST_PROXY


def test_spoofing_x_forwarded_for_does_not_escape_the_limit(settings):
    """Behind one proxy, a client that sends a new made-up address each time
    is still counted by the address the proxy appended."""
    settings.GATHER_TRUSTED_PROXY_COUNT = 1
    cache.clear()
    answers = [
        allow(
            _request(forwarded=f"192.0.2.{n}, {CLIENT}"),
            scope="test",
            limit=3,
            window=600,
        )
        for n in range(5)
    ]
    assert answers == [True, True, True, False, False]


def test_two_clients_behind_one_proxy_have_their_own_allowance(settings):
    settings.GATHER_TRUSTED_PROXY_COUNT = 1
    cache.clear()
    for _ in range(3):
        assert allow(_request(forwarded=CLIENT), scope="t", limit=3, window=600)
    assert not allow(_request(forwarded=CLIENT), scope="t", limit=3, window=600)
    assert allow(_request(forwarded="203.0.113.8"), scope="t", limit=3, window=600)


@pytest.mark.parametrize(
    ("proxy_settings", "proxies", "warned"),
    [
        ({"SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https")}, 0, True),
        ({"USE_X_FORWARDED_HOST": True}, 0, True),
        ({"SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https")}, 1, False),
        ({}, 0, False),
    ],
)
def test_the_deploy_check_warns_behind_a_proxy_with_no_trusted_proxy(
    settings, proxy_settings, proxies, warned
):
    settings.SECURE_PROXY_SSL_HEADER = None
    settings.USE_X_FORWARDED_HOST = False
    for name, value in proxy_settings.items():
        setattr(settings, name, value)
    settings.GATHER_TRUSTED_PROXY_COUNT = proxies
    ids = [w.id for w in trusted_proxy_count_set_behind_a_proxy(None)]
    assert ids == (["core.W001"] if warned else [])


def _check_deploy(proxy_count: str | None) -> subprocess.CompletedProcess:
    """``manage.py check --deploy`` with the production settings, as .ci/run
    runs it."""
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "website.settings.production",
        "SECRET_KEY": "x" * 60 + "production-like-secret-for-the-check",
        "GATHER_FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "gather.example.org",
        "BASE_URL": "https://gather.example.org",
    }
    env.pop("GATHER_TRUSTED_PROXY_COUNT", None)
    if proxy_count is not None:
        env["GATHER_TRUSTED_PROXY_COUNT"] = proxy_count
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_behind_its_proxy_passes_check_deploy_only_with_a_count():
    without = _check_deploy(None)
    assert without.returncode != 0
    assert "core.W001" in without.stderr + without.stdout
    with_count = _check_deploy("1")
    assert with_count.returncode == 0, with_count.stderr
    assert "core.W001" not in with_count.stderr + with_count.stdout
