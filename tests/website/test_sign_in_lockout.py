"""Sign-in throttling on both sign-in pages, and the staff idle timeout."""

import datetime as dt

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "river-walk-4472"

#: The two sign-in pages: Wagtail's admin and the facilitators'.
SIGN_IN_PAGES = ["/admin/login/", "/accounts/login/"]


@pytest.fixture
def staff(django_user_model):
    user = django_user_model.objects.create_user(
        "fay", email="fay@example.org", password=PASSWORD, is_staff=True
    )
    user.groups.add(Group.objects.get_or_create(name="Facilitators")[0])
    user.user_permissions.add(*Permission.objects.filter(codename="access_admin"))
    return user


def _sign_in(client, url, password, username="fay"):
    return client.post(url, {"username": username, "password": password})


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.parametrize("url", SIGN_IN_PAGES)
def test_thirty_wrong_passwords_then_the_right_one_is_refused(client, staff, url):
    for _ in range(30):
        _sign_in(client, url, "wrong-password")
    response = _sign_in(client, url, PASSWORD)

    assert not _signed_in(client)
    assert response.status_code == 429
    html = response.content.decode()
    assert "Sign-in is paused for a while" in html
    assert "Please wait 15 minutes and try again." in html
    assert reverse("password_reset") in html
    assert "<footer" in html and 'class="site-header' in html  # the site's look


@pytest.mark.parametrize("url", SIGN_IN_PAGES)
def test_signing_in_is_paused_from_the_limit_on(client, staff, url, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _sign_in(client, url, "wrong-password").status_code == 200
    assert _sign_in(client, url, PASSWORD).status_code == 302  # still allowed
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, url, "wrong-password")
    assert _sign_in(client, url, PASSWORD).status_code == 429


def test_a_lockout_on_one_page_holds_on_the_other(client, staff):
    for _ in range(5):
        _sign_in(client, SIGN_IN_PAGES[0], "wrong-password")
    assert _sign_in(client, SIGN_IN_PAGES[1], PASSWORD).status_code == 429
    assert not _signed_in(client)


def test_an_account_is_paused_whatever_address_the_tries_come_from(client, staff):
    """Many machines guessing one account are stopped too."""
    for n in range(5):
        client.post(
            SIGN_IN_PAGES[1],
            {"username": "fay", "password": "wrong"},
            REMOTE_ADDR=f"192.0.2.{n}",
        )
    response = client.post(
        SIGN_IN_PAGES[1],
        {"username": "fay", "password": PASSWORD},
        REMOTE_ADDR="198.51.100.9",
    )
    assert response.status_code == 429


def test_signing_in_works_again_after_the_pause(client, staff, time_machine):
    for _ in range(30):
        _sign_in(client, SIGN_IN_PAGES[1], "wrong-password")
    time_machine.move_to(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=16))
    assert _sign_in(client, SIGN_IN_PAGES[1], PASSWORD).status_code == 302
    assert _signed_in(client)


def test_the_staff_session_ends_after_the_idle_timeout(client, staff, time_machine):
    assert django_settings.GATHER_STAFF_IDLE_TIMEOUT == 4 * 60 * 60
    start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    time_machine.move_to(start, tick=False)
    assert _sign_in(client, SIGN_IN_PAGES[1], PASSWORD).status_code == 302

    # Each request starts the idle time again.
    for hours in (3, 6, 9):
        time_machine.move_to(start + dt.timedelta(hours=hours), tick=False)
        assert client.get(reverse("facilitate")).status_code == 200

    time_machine.move_to(start + dt.timedelta(hours=13, minutes=1), tick=False)
    response = client.get(reverse("facilitate"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
