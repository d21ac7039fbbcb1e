"""The sign-up form gives the same answer whatever the database holds.

Someone who types a registered person's email or phone number must get
exactly what a newcomer typing their own would get at that moment: the same
status, page, wording and headers, and the same number of emails sent to the
address, so the form can neither tell who is registered nor be used to
flood a registered person's inbox.
"""

import datetime as dt
import re

import pytest
from django.core import mail
from django.core.cache import cache
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.models import EventPage, Registration
from events.registration import register
from tests.conftest import make_event, make_registration_event, make_session
from tests.unique import unique

pytestmark = pytest.mark.django_db

HYPOTHESIS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

#: How the event stands when the probe arrives, and the registered person's
#: place in it.
SCENARIOS = [
    ("places", "confirmed"),
    ("full_with_waitlist", "confirmed"),
    ("full_with_waitlist", "waitlisted"),
    ("full_without_waitlist", "confirmed"),
    # Waitlist turned off after people joined it.
    ("full_without_waitlist", "waitlisted"),
]

#: Headers that may differ between two answers for reasons unrelated to who
#: is registered: the body's length (the echoed input differs in length) and
#: the clock (``never_cache``'s Expires is the current second).
IGNORED_HEADERS = {"Content-Length", "Expires"}


def _identity(contact: str) -> dict:
    """A fresh person's contact details of the kind ``contact``."""
    number = unique("p").split("-")[1].rjust(7, "0")[-7:]
    email = f"{unique('person')}@example.org"
    # A valid Toronto number (exchange 5xx; the counter stays below a million).
    phone = f"416 5{number[1:3]} {number[3:]}"
    return {
        "email": {"email": email, "phone": ""},
        "phone": {"email": "", "phone": phone},
        "both": {"email": email, "phone": phone},
    }[contact]


def _as_typed_again(identity: dict, shout: bool) -> dict:
    """The same person as they might type themselves on a second visit: the
    email in capitals, the phone with other punctuation."""
    if not shout:
        return identity
    digits = "".join(ch for ch in identity["phone"] if ch.isdigit())
    return {
        "email": identity["email"].upper(),
        "phone": f"({digits[:3]}) {digits[3:6]}-{digits[6:]}" if digits else "",
    }


def _event_in(index, scenario: str, place: str) -> EventPage:
    """An event that will be in ``scenario`` once the person is registered
    there with ``place`` (``_register_person``)."""
    if scenario == "places":
        event = make_registration_event(index, capacity=5)
        register(event=event, name="Other", email=f"{unique('o')}@example.org")
        return event
    event = make_registration_event(index, capacity=1, waitlist=True)
    if place == "waitlisted":
        register(event=event, name="Other", email=f"{unique('o')}@example.org")
    return event


def _register_person(event, identity: dict, *, place: str, scenario: str) -> None:
    result = register(event=event, name="Robin", support_needs="", **identity)
    assert result.registration.status == place
    if scenario == "full_without_waitlist":
        EventPage.objects.filter(pk=event.pk).update(waitlist_enabled=False)


def _form(identity: dict) -> dict:
    return {
        "name": "Robin",
        "support_needs": "",
        "consent_to_contact": "on",
        "website": "",
        **identity,
    }


def _normalised_body(response, identity: dict) -> str:
    """The rendered page without the CSRF token and the input echoed back."""
    body = response.content.decode()
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", body)
    for value in identity.values():
        if value:
            body = body.replace(value, "<input>")
    return body


def _headers(response) -> dict:
    return {
        name: value
        for name, value in response.headers.items()
        if name not in IGNORED_HEADERS
    }


def _emails_to(identity: dict) -> int:
    email = identity["email"].lower()
    return sum(1 for m in mail.outbox if email and m.to[0].lower() == email)


def _probe(client, event, identity, capture) -> tuple:
    """Post the form for ``identity``; the answer and the emails it caused."""
    mail.outbox.clear()
    with capture(execute=True):
        response = client.post(event.sign_up_url, _form(identity))
    thanks = None
    if response.status_code == 302:
        thanks = client.get(response["Location"])
        thanks = (thanks.status_code, _normalised_body(thanks, identity))
    return (
        response.status_code,
        _headers(response),
        _normalised_body(response, identity),
        thanks,
        _emails_to(identity),
    )


def _snapshot(identity: dict):
    rows = Registration.objects.filter(
        email=identity["email"], phone=identity["phone"]
    ).values_list(
        "pk", "status", "waitlist_position", "name", "support_needs", "updated_at"
    )
    return list(rows)


@HYPOTHESIS
@given(
    scenario=st.sampled_from(SCENARIOS),
    contact=st.sampled_from(["email", "phone", "both"]),
    shout=st.booleans(),
)
def test_a_registered_person_gets_a_newcomers_answer(
    site_client,
    event_index,
    django_capture_on_commit_callbacks,
    scenario,
    contact,
    shout,
):
    cache.clear()
    (kind, place) = scenario
    event = _event_in(event_index, kind, place)
    registered = _identity(contact)
    _register_person(event, registered, place=place, scenario=kind)
    before = _snapshot(registered)
    newcomer = _identity(contact)

    # The registered probe first: it must change nothing, so the newcomer's
    # probe meets the same event and is what a newcomer gets at that moment.
    answer_for_registered = _probe(
        site_client,
        event,
        _as_typed_again(registered, shout),
        django_capture_on_commit_callbacks,
    )
    answer_for_newcomer = _probe(
        site_client, event, newcomer, django_capture_on_commit_callbacks
    )

    assert answer_for_registered == answer_for_newcomer
    assert _snapshot(registered) == before
    expected_status = 409 if kind == "full_without_waitlist" else 302
    assert answer_for_registered[0] == expected_status


@HYPOTHESIS
@given(
    registered_first=st.lists(st.booleans(), min_size=1, max_size=6),
    limit=st.integers(min_value=0, max_value=4),
)
def test_the_rate_limit_counts_registered_and_unregistered_alike(
    site_client, event_index, settings, time_machine, registered_first, limit
):
    """However the posts mix registered and unknown people, the limit
    starts answering 429 at the same post, with the same page."""
    # The limit counts in fixed windows: the clock stands still, so a window
    # that ends between two posts cannot reset the count.
    time_machine.move_to(dt.datetime(2026, 12, 1, 15, 0, 5, tzinfo=dt.UTC), tick=False)
    cache.clear()
    settings.GATHER_SIGNUP_RATE_LIMIT = limit
    event = make_registration_event(event_index, capacity=50)
    registered = _identity("email")
    register(event=event, name="Robin", **registered)

    answers = []
    for is_registered in registered_first:
        identity = registered if is_registered else _identity("email")
        response = site_client.post(event.sign_up_url, _form(identity))
        answers.append((response.status_code, _normalised_body(response, identity)))

    statuses = [status for status, _ in answers]
    assert statuses == [302 if n < limit else 429 for n in range(len(statuses))]
    assert len({body for status, body in answers if status == 429}) <= 1


def test_repeat_sign_ups_email_a_registration_at_most_once_a_day(
    site_client, event_index, django_capture_on_commit_callbacks, time_machine
):
    # Sign-up closes when the series starts: its session is three days off,
    # so sign-up is still open 25 hours on, whatever the time of day the
    # test runs (a session tomorrow evening may have started by then).
    event = make_event(
        event_index, registration_mode="required", capacity=5, waitlist_enabled=True
    )
    make_session(event, start=dt.datetime.now(dt.UTC) + dt.timedelta(days=3))
    registered = _identity("email")
    register(event=event, name="Robin", **registered)

    def emails_after_probe():
        cache.clear()  # the rate limit is not what is tested here
        return _probe(
            site_client, event, registered, django_capture_on_commit_callbacks
        )[-1]

    assert [emails_after_probe() for _ in range(5)] == [1, 0, 0, 0, 0]
    time_machine.move_to(dt.datetime.now(dt.UTC) + dt.timedelta(hours=23))
    assert emails_after_probe() == 0
    time_machine.move_to(dt.datetime.now(dt.UTC) + dt.timedelta(hours=2))
    assert emails_after_probe() == 1
    assert Registration.objects.filter(email=registered["email"]).count() == 1


def test_a_full_event_without_waitlist_refuses_a_registered_person_as_anyone(
    site_client, event_index, django_capture_on_commit_callbacks
):
    event = make_registration_event(event_index, capacity=1, waitlist=False)
    registered = _identity("email")
    register(event=event, name="Robin", **registered)
    mail.outbox.clear()

    response = site_client.post(event.sign_up_url, _form(registered))

    assert response.status_code == 409
    assert "Sorry, this event is full." in response.content.decode()
    assert mail.outbox == []
    assert Registration.objects.get(email=registered["email"]).status == "confirmed"
