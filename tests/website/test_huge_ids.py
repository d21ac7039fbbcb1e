"""Ids too large for a database key get a 404 or a form error, never a 500
(an event's id is a one-to-one key, which Django does not range-check, and
SQLite fails on integers over 64 bits)."""

import pytest
from django.urls import reverse

from events.models import Registration
from tests.conftest import make_registration_event, sign_up

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999999"


@pytest.mark.parametrize(
    "path",
    [
        f"/sign-up/{HUGE}/",
        f"/sign-up/{HUGE}/thanks/",
        f"/calendar/event-{HUGE}.ics",
        f"/calendar/session-{HUGE}.ics",
        "/sign-up/9223372036854775808/",  # one over the largest key
    ],
)
def test_public_urls_are_404(client, home_page, path):
    client.defaults["HTTP_HOST"] = "localhost"
    assert client.get(path).status_code == 404


def test_admin_urls_and_filters(client, admin_user, event_index):
    client.force_login(admin_user)
    for path in [
        f"/admin/registrations/capacity/{HUGE}/",
        f"/admin/sessions/series/{HUGE}/",
    ]:
        assert client.get(path).status_code == 404, path
    for name in ["event_registrations:index", "event_sessions:index"]:
        response = client.get(reverse(name), {"event": HUGE})
        assert response.status_code == 200, name
    response = client.get(reverse("attendance_reports"), {"event": HUGE})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


def test_moving_someone_to_a_huge_event_id_is_a_form_error(
    client, admin_user, event_index
):
    person = sign_up(make_registration_event(event_index), "Ana")
    client.force_login(admin_user)
    response = client.post(
        reverse("event_registrations:move", args=[person.pk]), {"to_event": HUGE}
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert Registration.objects.get().event_id == person.event_id
