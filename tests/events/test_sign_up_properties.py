"""Arbitrary input thrown at the public sign-up form and the manage pages:
never a server error, and never a row that should not exist."""

from urllib.parse import quote

import pytest
from django.core.cache import cache
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.models import Registration
from events.registration import manage_token
from tests.conftest import make_registration_event, sign_up

pytestmark = pytest.mark.django_db

FIELDS = [
    "name",
    "email",
    "phone",
    "support_needs",
    "consent_email",
    "consent_text",
    "consent_call",
    "website",
]

#: Text including control characters, surrogates excluded (not encodable).
any_text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=300)
form_data = st.dictionaries(
    keys=st.sampled_from(FIELDS) | st.text(max_size=20),
    values=any_text | st.lists(any_text, max_size=3),
    max_size=8,
)

HYPOTHESIS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.fixture
def event_with_places(event_index):
    return make_registration_event(event_index, capacity=3)


@HYPOTHESIS
@given(data=form_data)
def test_sign_up_form_never_fails_or_leaves_stray_rows(
    site_client, event_with_places, data
):
    # One event for every example (publishing one per example would be most
    # of the test's time), emptied first so each example starts with places.
    event = event_with_places
    Registration.objects.filter(event=event).delete()
    cache.clear()
    before = Registration.objects.count()

    response = site_client.post(event.sign_up_url, data)

    assert response.status_code in (200, 302, 409, 429)
    created = Registration.objects.count() - before
    if response.status_code != 302:
        assert created == 0
    else:
        # At most one row, and only for a plausible person who is not a bot.
        assert created <= 1
        if created:
            row = Registration.objects.latest("pk")
            assert row.name.strip() and (row.email or row.phone)
            assert not data.get("website")


@pytest.fixture
def someone(event_index):
    event = make_registration_event(event_index)
    return sign_up(event, "Ana")


@HYPOTHESIS
@given(token=any_text, suffix=st.sampled_from(["", "cancel/", "calendar.ics"]))
def test_manage_pages_never_fail_on_any_token(site_client, someone, token, suffix):
    path = f"/manage/{quote(token, safe='')}/{suffix}"
    for method in ("get", "post"):
        response = getattr(site_client, method)(path)
        assert response.status_code < 500
        if token != manage_token(someone):
            assert response.status_code in (404, 405)
    someone.refresh_from_db()
    assert someone.status == "confirmed"  # no guessed link cancelled it
