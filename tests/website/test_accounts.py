"""Signing in and resetting a forgotten password."""

import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

pytestmark = [pytest.mark.django_db, pytest.mark.tasks]


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Rate limits are counted in the cache, which outlives each test."""
    cache.clear()


@pytest.fixture
def facilitator(django_user_model, facilitators_group):
    user = django_user_model.objects.create_user(
        "fay", email="fay@example.org", password="old-password-123", first_name="Fay"
    )
    user.groups.add(facilitators_group)
    return user


def _signs_in(client, username, password) -> bool:
    client.post(reverse("login"), {"username": username, "password": password})
    return "_auth_user_id" in client.session


def test_signing_in_lands_on_the_facilitators_sessions(client, facilitator):
    response = client.post(
        reverse("login"), {"username": "fay", "password": "old-password-123"}
    )
    assert response.status_code == 302 and response.url == reverse("facilitate")
    assert client.get(response.url).status_code == 200


def test_signing_in_goes_back_to_where_the_facilitator_was_going(client, facilitator):
    calendar = reverse("facilitator_calendar")
    page = client.get(calendar, follow=True)
    assert page.redirect_chain[-1][0] == f"{reverse('login')}?next={calendar}"
    assert f'name="next" value="{calendar}"' in page.content.decode()

    response = client.post(
        reverse("login"),
        {"username": "fay", "password": "old-password-123", "next": calendar},
    )
    assert response.url == calendar


def test_login_page_links_to_password_reset(client):
    html = client.get(reverse("login")).content.decode()
    assert reverse("password_reset") in html and "Forgot your password?" in html


def _reset_link(message) -> str:
    return re.search(r"https?://\S+/accounts/password-reset/\S+/", message.body)[0]


def test_password_reset_by_email(client, facilitator, settings, run_tasks):
    settings.BASE_URL = "https://gather.example.org"
    response = client.post(reverse("password_reset"), {"email": "FAY@example.org"})
    run_tasks()
    assert response.status_code == 302
    assert response.url == reverse("password_reset_done")

    (message,) = mail.outbox
    assert message.to == ["fay@example.org"]
    assert message.subject == "Your password reset link"
    assert "Your username is fay." in message.body
    link = _reset_link(message)
    assert link.startswith("https://gather.example.org/accounts/password-reset/")

    # The token leaves the address at once (Django swaps it for the session).
    form = client.get(link.removeprefix(settings.BASE_URL), follow=True)
    assert "Choose a new password" in form.content.decode()
    form_url = form.redirect_chain[-1][0]
    assert "set-password" in form_url

    done = client.post(
        form_url,
        {"new_password1": "river-walk-4472", "new_password2": "river-walk-4472"},
    )
    assert done.url == reverse("password_reset_complete")
    client.logout()
    # Through the sign-in page: django-axes needs the request to count tries.
    assert not _signs_in(client, "fay", "old-password-123")
    assert _signs_in(client, "fay", "river-walk-4472")

    # The link works once.
    again = client.get(link.removeprefix(settings.BASE_URL), follow=True)
    assert "This link does not work any more" in again.content.decode()


def test_password_reset_says_the_same_whether_or_not_there_is_an_account(
    client, facilitator, task_backend, run_tasks
):
    known = client.post(
        reverse("password_reset"), {"email": "fay@example.org"}, follow=True
    )
    unknown = client.post(
        reverse("password_reset"), {"email": "nobody@example.org"}, follow=True
    )
    assert known.redirect_chain == unknown.redirect_chain
    assert known.content == unknown.content
    # One task each, alike (the immediate backend ran them already).
    assert run_tasks() == (0 if task_backend == "immediate" else 2)
    assert [m.to for m in mail.outbox] == [["fay@example.org"]]


def test_password_reset_task_carries_ids_not_addresses_or_tokens(
    client, facilitator, settings
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    client.post(reverse("password_reset"), {"email": "fay@example.org"})
    client.post(reverse("password_reset"), {"email": "nobody@example.org"})

    tasks = list(DBTaskResult.objects.order_by("enqueued_at"))
    assert [t.args_kwargs["args"] for t in tasks] == [[[facilitator.pk]], [[]]]
    assert not mail.outbox


def test_password_reset_email_subject_is_discreet(client, facilitator, run_tasks):
    client.post(reverse("password_reset"), {"email": "fay@example.org"})
    run_tasks()
    subject = mail.outbox[0].subject.casefold()
    for word in ("mental", "addiction", "peer", "support", "group", "gather"):
        assert word not in subject


def test_password_reset_is_rate_limited_per_address(
    client, facilitator, settings, run_tasks
):
    settings.GATHER_PASSWORD_RESET_RATE_LIMIT = 2
    statuses = [
        client.post(reverse("password_reset"), {"email": "fay@example.org"}).status_code
        for _ in range(3)
    ]
    assert statuses == [302, 302, 429]
    run_tasks()
    assert len(mail.outbox) == 2
    assert (
        "Too many requests"
        in client.post(
            reverse("password_reset"), {"email": "fay@example.org"}
        ).content.decode()
    )
    other = client.post(
        reverse("password_reset"),
        {"email": "fay@example.org"},
        REMOTE_ADDR="203.0.113.9",
    )
    assert other.status_code == 302


def test_the_admin_sign_in_offers_the_one_rate_limited_reset(client):
    """Wagtail's admin reset form (no rate limit, email sent in the request)
    is off; the admin sign-in page links to the site's reset instead."""
    assert client.get("/admin/password_reset/").status_code == 404
    page = client.get("/admin/login/").content.decode()
    assert f'href="{reverse("password_reset")}"' in page
    assert "/admin/password_reset/" not in page


def test_reset_links_that_do_not_work_are_limited_per_address(
    client, facilitator, settings, run_tasks
):
    """Trying link after link is refused once too many have failed, even a
    link that would work, until the window passes."""
    settings.GATHER_PASSWORD_RESET_RATE_LIMIT = 3
    client.post(reverse("password_reset"), {"email": "fay@example.org"})
    run_tasks()
    good_link = _reset_link(mail.outbox[0]).removeprefix(settings.BASE_URL)
    bad_link = reverse(
        "password_reset_confirm", kwargs={"uidb64": "MQ", "token": "a-b"}
    )

    statuses = [client.get(bad_link).status_code for _ in range(4)]
    refused = client.get(good_link)

    assert statuses == [200, 200, 200, 429]
    assert refused.status_code == 429
    assert "Too many links that do not work" in refused.content.decode()
    elsewhere = client.get(good_link, REMOTE_ADDR="203.0.113.9", follow=True)
    assert "Choose a new password" in elsewhere.content.decode()
