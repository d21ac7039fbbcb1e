"""The facilitator area: who sees what, attendance, walk-ins, headcounts,
notes, and self check-in."""

import datetime as dt
import re

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.urls import reverse
from django.utils import formats, timezone
from wagtail.models import ModelLogEntry

from attendance.checkin import check_in_code
from attendance.models import AttendanceRecord, Headcount, SessionNote
from events.models import EventSession
from events.permissions import registrations_visible_to, sessions_visible_to
from events.sessions import cancel_session
from tests.conftest import make_event, make_registration_event, make_session, sign_up

pytestmark = pytest.mark.django_db


@pytest.fixture
def facilitator(django_user_model, facilitators_group):
    user = django_user_model.objects.create_user("fac", password="pw", first_name="Fay")
    user.groups.add(facilitators_group)
    return user


@pytest.fixture
def other_facilitator(django_user_model, facilitators_group):
    user = django_user_model.objects.create_user("other", password="pw")
    user.groups.add(facilitators_group)
    return user


@pytest.fixture
def session(event_index, facilitator):
    event = make_registration_event(event_index, capacity=3, title="WRAP group")
    event.facilitators.add(facilitator)
    event.save_revision().publish()
    return event.sessions.get()


def _url(name, session, *args):
    return reverse(name, args=[session.pk, *args])


def test_facilitators_see_only_their_sessions_and_coordinators_all(
    event_index, session, facilitator, other_facilitator, django_user_model
):
    unrelated = make_session(make_event(event_index))
    assert list(sessions_visible_to(facilitator)) == [session]
    assert list(sessions_visible_to(other_facilitator)) == []
    coordinator = django_user_model.objects.create_user("coord")
    coordinator.groups.add(Group.objects.get_or_create(name="Coordinators")[0])
    assert set(sessions_visible_to(coordinator)) == {session, unrelated}


def test_facilitators_see_only_their_events_people_and_coordinators_all(
    event_index, session, facilitator, other_facilitator, django_user_model
):
    from django.contrib.auth.models import AnonymousUser

    ana = sign_up(session.event, "Ana")
    elsewhere = sign_up(make_registration_event(event_index), "Bo")
    assert list(registrations_visible_to(facilitator)) == [ana]
    assert list(registrations_visible_to(other_facilitator)) == []
    assert list(registrations_visible_to(AnonymousUser())) == []
    coordinator = django_user_model.objects.create_user("coord")
    coordinator.groups.add(Group.objects.get_or_create(name="Coordinators")[0])
    assert set(registrations_visible_to(coordinator)) == {ana, elsewhere}
    coordinator.is_active = facilitator.is_active = False
    assert list(registrations_visible_to(coordinator)) == []
    assert list(registrations_visible_to(facilitator)) == []


def test_the_admin_registrations_list_shows_the_people_of_the_session_page(
    client, session, facilitator, event_index
):
    """A facilitator with admin access finds the same people in the admin
    as on their session page, and none of another group's."""
    from django.contrib.auth.models import Permission

    facilitator.user_permissions.add(
        *Permission.objects.filter(codename__in=["access_admin", "view_registration"])
    )
    for name in ("Ana Lopez", "Ben Okafor"):
        sign_up(session.event, name)
    sign_up(make_registration_event(event_index), "Cy Elsewhere")
    client.force_login(facilitator)
    page = client.get(_url("facilitate_session", session))
    on_page = sorted(r.name for r, _record in page.context["rows"])
    listing = client.get(reverse("event_registrations:index"))
    in_admin = sorted(r.name for r in listing.context["object_list"])
    assert in_admin == on_page == ["Ana Lopez", "Ben Okafor"]


@pytest.mark.parametrize(
    ("name", "method", "args"),
    [
        ("facilitate_session", "get", ()),
        ("facilitate_attendance", "post", ()),
        ("facilitate_walk_in", "post", ()),
        ("facilitate_headcount", "post", ()),
        ("facilitate_note", "post", ()),
        ("facilitate_check_in_screen", "get", ()),
        ("facilitate_pdf", "get", ("sign-in-sheet",)),
        ("facilitate_pdf", "get", ("register",)),
        ("facilitate_pdf", "get", ("pack",)),
    ],
)
def test_other_facilitators_get_404_and_anonymous_must_log_in(
    client, session, other_facilitator, name, method, args
):
    sign_up(session.event, "Ana Lopez")
    url = _url(name, session, *args)
    assert getattr(client, method)(url).status_code == 302  # to the login page
    client.force_login(other_facilitator)
    response = getattr(client, method)(url, {"name": "X", "status-1": "present"})
    assert response.status_code == 404
    assert "Ana" not in response.content.decode()
    assert not AttendanceRecord.objects.exists()


def test_facilitators_can_sign_out(client, session, facilitator):
    client.force_login(facilitator)
    page = client.get(reverse("facilitate")).content.decode()
    assert "Signed in as Fay." in page and reverse("logout") in page

    response = client.post(reverse("logout"))

    assert response.status_code == 302 and response.url == "/"
    assert client.get(reverse("facilitate")).status_code == 302


def test_session_page_shows_roster_needs_and_waitlist(
    client, session, facilitator, time_machine
):
    sign_up(session.event, "Ana Lopez", support_needs="Needs a quiet seat")
    sign_up(session.event, "Ben")
    sign_up(session.event, "Cy")
    sign_up(session.event, "Di Waiting")
    client.force_login(facilitator)
    response = client.get(_url("facilitate_session", session))
    html = response.content.decode()
    assert "no-store" in response["Cache-Control"]  # names and needs: never cached
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "Ana Lopez" in html and "Needs a quiet seat" in html
    assert "Waitlist" in html and "Di Waiting" in html
    # The day before: the names to prepare with, no controls that would fail.
    assert "Attendance can be recorded from 30 minutes before" in html
    assert 'class="attendance-person"' not in html
    assert reverse("facilitate_walk_in", args=[session.pk]) not in html

    time_machine.move_to(session.start - dt.timedelta(minutes=20))
    client.force_login(facilitator)  # hours on, the idle session has ended
    html = client.get(_url("facilitate_session", session)).content.decode()
    assert html.count('class="attendance-person"') == 3
    assert reverse("facilitate_walk_in", args=[session.pk]) in html


def test_a_refused_headcount_keeps_what_was_typed_and_says_why(
    client, event_index, facilitator, time_machine
):
    event = make_registration_event(event_index, headcount_only=True)
    event.facilitators.add(facilitator)
    event.save_revision().publish()
    session = event.sessions.get()
    time_machine.move_to(session.start)
    client.force_login(facilitator)
    url = _url("facilitate_headcount", session)

    response = client.post(url, {"attendees": "3", "walk_ins": "5"})

    assert response.status_code == 400
    html = response.content.decode()
    assert "more walk-ins than people in total" in html
    assert 'value="3"' in html and 'value="5"' in html
    # The summary at the top of the page says so and links to the field.
    summary = html.index('id="error-summary"')
    assert summary < html.index('id="headcount-heading"')
    assert 'href="#id_walk_ins"' in html[summary:]


def test_attendance_saved_twice_does_not_duplicate_and_edits_are_logged(
    client, session, facilitator, time_machine
):
    ana = sign_up(session.event, "Ana")
    time_machine.move_to(session.start)
    client.force_login(facilitator)
    url = _url("facilitate_attendance", session)

    client.post(url, {f"status-{ana.pk}": "present"})
    client.post(url, {f"status-{ana.pk}": "present"})
    assert AttendanceRecord.objects.count() == 1
    assert not ModelLogEntry.objects.filter(action="attendance.record.changed").exists()

    client.post(url, {f"status-{ana.pk}": "late"})
    record = AttendanceRecord.objects.get()
    assert (record.status, record.recorded_by) == ("late", facilitator)
    entry = ModelLogEntry.objects.get(action="attendance.record.changed")
    assert entry.user == facilitator
    assert entry.data == {"session": session.pk, "from": "present", "to": "late"}
    assert "Ana" not in entry.label


def test_mark_everyone_present_skips_people_already_marked(
    client, session, facilitator, time_machine
):
    ana = sign_up(session.event, "Ana")
    sign_up(session.event, "Ben")
    time_machine.move_to(session.start)
    client.force_login(facilitator)
    client.post(_url("facilitate_attendance", session), {f"status-{ana.pk}": "excused"})
    client.post(_url("facilitate_attendance", session), {"everyone_present": "1"})
    statuses = dict(
        AttendanceRecord.objects.values_list("registration__name", "status")
    )
    assert statuses == {"Ana": "excused", "Ben": "present"}
    client.post(_url("facilitate_attendance", session), {"everyone_present": "1"})
    assert AttendanceRecord.objects.count() == 2


def test_bad_attendance_input_changes_nothing(client, session, facilitator):
    ana = sign_up(session.event, "Ana")
    stranger = sign_up(make_registration_event(session.event.get_parent()), "Stranger")
    client.force_login(facilitator)
    url = _url("facilitate_attendance", session)
    for data in ({f"status-{ana.pk}": "asleep"}, {f"status-{stranger.pk}": "present"}):
        response = client.post(url, data, follow=True)
        assert response.status_code == 200
    assert not AttendanceRecord.objects.exists()


def test_walk_ins_are_added_by_name(client, session, facilitator, time_machine):
    time_machine.move_to(session.start)
    client.force_login(facilitator)
    client.post(_url("facilitate_walk_in", session), {"name": "Eve"})
    response = client.post(_url("facilitate_walk_in", session), {"name": "  "})
    assert response.status_code == 400
    assert [r.walk_in_name for r in AttendanceRecord.objects.all()] == ["Eve"]


def test_headcount_only_events_record_numbers_and_never_names(
    client, event_index, facilitator, time_machine
):
    event = make_registration_event(event_index, headcount_only=True)
    event.facilitators.add(facilitator)
    event.save_revision().publish()
    session = event.sessions.get()
    sign_up(event, "Secret Name")
    time_machine.move_to(session.start)
    client.force_login(facilitator)

    html = client.get(_url("facilitate_session", session)).content.decode()
    assert "Secret Name" not in html and "Headcount" in html
    client.post(
        _url("facilitate_headcount", session), {"attendees": "12", "walk_ins": "3"}
    )
    assert (Headcount.objects.get().attendees, Headcount.objects.get().walk_ins) == (
        12,
        3,
    )
    bad = client.post(
        _url("facilitate_headcount", session), {"attendees": "2", "walk_ins": "3"}
    )
    assert bad.status_code == 400
    client.post(_url("facilitate_walk_in", session), {"name": "Eve"})
    assert not AttendanceRecord.objects.exists()


def test_session_note_is_saved_and_follow_ups_flagged(client, session, facilitator):
    client.force_login(facilitator)
    page = client.get(_url("facilitate_session", session)).content.decode()
    assert "No clinical notes" in page
    client.post(
        _url("facilitate_note", session),
        {
            "covered": "Wellness toolbox",
            "attendance_summary": "8 came",
            "follow_ups": "Room too cold",
        },
    )
    note = SessionNote.objects.get()
    assert (note.covered, note.needs_follow_up, note.author) == (
        "Wellness toolbox",
        True,
        facilitator,
    )


def test_facilitator_list_shows_today_and_upcoming(client, session, facilitator):
    client.force_login(facilitator)
    html = client.get(reverse("facilitate")).content.decode()
    assert "WRAP group" in html


# Self check-in ------------------------------------------------------------------


@pytest.fixture
def open_session(event_index, facilitator):
    event = make_registration_event(event_index, capacity=5, title="Art group")
    session = event.sessions.get()
    event.sessions.update(
        start=timezone.now() + dt.timedelta(minutes=10),
        end=timezone.now() + dt.timedelta(hours=2),
    )
    session.refresh_from_db()
    cache.clear()
    return session


def test_check_in_by_choosing_a_name_shows_initials_only(client, open_session):
    ana = sign_up(open_session.event, "Ana Lopez")
    url = reverse("check_in", args=[check_in_code(open_session)])

    html = client.get(url).content.decode()
    assert "Ana L." in html and "Lopez" not in html

    response = client.post(url, {"person": str(ana.pk)})
    assert "You are checked in" in response.content.decode()
    record = AttendanceRecord.objects.get()
    assert (record.registration, record.status, record.method) == (
        ana,
        "present",
        "self_check_in",
    )
    after = client.get(url)
    assert after.status_code == 200
    assert "Everyone on the list has checked in." in after.content.decode()
    assert "Ana L." not in after.content.decode()  # off the list now
    again = client.post(url, {"person": str(ana.pk)}).content.decode()  # double tap
    assert "Ana L., you were already on the list." in again
    assert AttendanceRecord.objects.count() == 1


def test_check_in_by_typing_a_name(client, open_session):
    sign_up(open_session.event, "Ana Lopez")
    url = reverse("check_in", args=[check_in_code(open_session)])
    assert (
        "could not find" in client.post(url, {"typed_name": "Nobody"}).content.decode()
    )
    client.post(url, {"typed_name": "ana lopez"})
    assert AttendanceRecord.objects.count() == 1


def test_check_in_only_while_open(client, open_session, time_machine):
    sign_up(open_session.event, "Ana")
    url = reverse("check_in", args=[check_in_code(open_session)])
    time_machine.move_to(open_session.start - dt.timedelta(hours=2))
    assert client.get(url).status_code == 404
    time_machine.move_to(open_session.end + dt.timedelta(minutes=1))
    assert client.get(url).status_code == 404
    assert client.get(reverse("check_in", args=["WRONGCOD"])).status_code == 404


def test_check_in_is_rate_limited(client, open_session, settings):
    settings.GATHER_CHECK_IN_RATE_LIMIT = 3
    url = reverse("check_in", args=[check_in_code(open_session)])
    statuses = [client.post(url, {"typed_name": "guess"}).status_code for _ in range(5)]
    assert statuses[-1] == 429


@pytest.mark.parametrize(
    "document", ["sign-in-sheet", "register", "guide", "handout", "flyer", "pack"]
)
def test_facilitator_gets_each_pdf_of_their_session(
    client, event_index, workshop_index, facilitator, document
):
    from tests.conftest import make_workshop

    event = make_registration_event(event_index, workshop=make_workshop(workshop_index))
    event.facilitators.add(facilitator)
    event.save_revision().publish()
    session = event.sessions.get()
    sign_up(event, "Ana Lopez")
    client.force_login(facilitator)

    response = client.get(_url("facilitate_pdf", session, document))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert "no-store" in response["Cache-Control"]


def test_guide_for_an_event_without_a_workshop_is_404(client, session, facilitator):
    client.force_login(facilitator)
    assert client.get(_url("facilitate_pdf", session, "guide")).status_code == 404
    assert client.get(_url("facilitate_pdf", session, "nonsense")).status_code == 404


def test_no_attendance_for_cancelled_or_future_sessions(
    client, session, facilitator, time_machine
):
    ana = sign_up(session.event, "Ana")
    time_machine.move_to(session.start - dt.timedelta(minutes=31))
    client.force_login(facilitator)  # after the jump: idle sessions end
    response = client.post(
        _url("facilitate_attendance", session),
        {f"status-{ana.pk}": "present"},
        follow=True,
    )
    assert "has not started yet" in response.content.decode()
    client.post(_url("facilitate_attendance", session), {"everyone_present": "1"})
    client.post(_url("facilitate_walk_in", session), {"name": "Eve"})
    assert not AttendanceRecord.objects.exists()

    time_machine.move_to(session.start - dt.timedelta(minutes=29))
    client.post(_url("facilitate_walk_in", session), {"name": "Eve"})
    assert AttendanceRecord.objects.count() == 1

    cancel_session(session=session, notify=False)
    client.post(_url("facilitate_walk_in", session), {"name": "Fay"})
    assert AttendanceRecord.objects.count() == 1


def _confirmed(event, names):
    """Confirmed people made in one go (the sign-up workflow's emails make
    it too slow for a whole group)."""
    from events.models import Registration

    Registration.objects.bulk_create(
        Registration(
            event=event,
            name=name,
            email=f"person{i}@example.org",
            token_salt=f"salt-{event.pk}-{i}",
            manage_token_hash=f"hash-{event.pk}-{i}",
        )
        for i, name in enumerate(names)
    )
    return list(event.registrations.order_by("pk"))


def test_a_whole_group_on_one_connection_can_check_in(event_index, client):
    """25 people on one hospital Wi-Fi (one client address) all check in:
    check-ins that work are not counted against the address."""
    event = make_registration_event(event_index, capacity=None)
    session = event.sessions.get()
    event.sessions.update(start=timezone.now(), end=timezone.now() + dt.timedelta(1))
    cache.clear()
    people = _confirmed(event, [f"Person{i:02d} Surname" for i in range(25)])
    url = reverse("check_in", args=[check_in_code(session)])

    for person in people:
        assert client.get(url).status_code == 200
        response = client.post(url, {"person": str(person.pk)})
        assert "You are checked in" in response.content.decode()

    assert (
        AttendanceRecord.objects.filter(session=session, status="present").count() == 25
    )
    assert set(AttendanceRecord.objects.values_list("registration", flat=True)) == {
        person.pk for person in people
    }


def test_wrong_codes_are_limited_and_the_page_says_so(client, open_session, settings):
    settings.GATHER_CHECK_IN_RATE_LIMIT = 3
    wrong = reverse("check_in", args=["WRONGCOD"])
    for _ in range(3):
        response = client.get(wrong)
        assert response.status_code == 404
        assert "could not find a session with this check-in code" in (
            response.content.decode()
        )

    blocked = client.get(wrong)
    html = blocked.content.decode()
    assert blocked.status_code == 429
    assert "Too many tries" in html and "wait a few minutes" in html
    assert "Check-in is not open" not in html
    # The right code waits too from this address, not from another one.
    right = reverse("check_in", args=[check_in_code(open_session)])
    assert client.get(right).status_code == 429
    assert client.get(right, REMOTE_ADDR="203.0.113.7").status_code == 200


def test_names_not_found_count_but_check_ins_that_work_do_not(
    client, open_session, settings
):
    settings.GATHER_CHECK_IN_RATE_LIMIT = 2
    people = _confirmed(open_session.event, ["Ana Lopez", "Ben Ode", "Cy Park"])
    url = reverse("check_in", args=[check_in_code(open_session)])

    assert client.post(url, {"typed_name": "Nobody"}).status_code == 200
    for person in people:
        client.post(url, {"person": str(person.pk)})
    assert AttendanceRecord.objects.count() == 3
    assert client.get(url).status_code == 200

    client.post(url, {"person": "999999"})  # not a choice on the list
    assert client.post(url, {"person": str(people[0].pk)}).status_code == 429
    assert client.get(url).status_code == 200  # the names limit is for names


def test_wrong_names_on_one_session_do_not_block_another(
    client, event_index, open_session, settings
):
    settings.GATHER_CHECK_IN_RATE_LIMIT = 20
    other = make_registration_event(event_index, capacity=5, title="Walk group")
    other.sessions.update(start=open_session.start, end=open_session.end)
    other_session = other.sessions.get()
    (ana,) = _confirmed(other, ["Ana Lopez"])
    url = reverse("check_in", args=[check_in_code(open_session)])
    for _ in range(20):
        client.post(url, {"typed_name": "Nobody"})
    assert client.post(url, {"typed_name": "Nobody"}).status_code == 429

    other_url = reverse("check_in", args=[check_in_code(other_session)])
    assert client.get(other_url).status_code == 200
    done = client.post(other_url, {"typed_name": "Ana Lopez"}).content.decode()
    assert "You are checked in" in done
    assert AttendanceRecord.objects.get().registration == ana


def _page_for_any_code(response, code):
    """The page without what differs on every page anyway: its own address
    and the form's CSRF token."""
    html = response.content.decode().replace(code, "CODE")
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


def test_after_too_many_wrong_codes_a_right_code_and_name_still_check_in(
    client, open_session, settings
):
    settings.GATHER_CHECK_IN_RATE_LIMIT = 20
    (ana,) = _confirmed(open_session.event, ["Ana Lopez"])
    for number in range(20):
        client.get(reverse("check_in", args=[f"WRONG{number:03d}"]))
    wrong = reverse("check_in", args=["WRONGCOD"])
    right = reverse("check_in", args=[check_in_code(open_session)])

    # Code guessing stays limited, and a right code's page is no different
    # from a wrong one's, so it tells a guesser nothing.
    blocked, same = client.get(wrong), client.get(right)
    assert blocked.status_code == same.status_code == 429
    assert _page_for_any_code(blocked, "WRONGCOD") == _page_for_any_code(
        same, check_in_code(open_session)
    )
    assert "Ana" not in same.content.decode()
    assert 'name="typed_name"' in same.content.decode()
    assert client.post(wrong, {"typed_name": "Ana Lopez"}).status_code == 429
    guessed = client.post(right, {"typed_name": "Nobody", "person": str(ana.pk)})
    assert guessed.status_code == 429
    assert not AttendanceRecord.objects.exists()

    done = client.post(right, {"typed_name": "ana lopez"})
    assert "Thank you, Ana L.!" in done.content.decode()
    assert AttendanceRecord.objects.get().registration == ana


def test_a_code_scanned_early_says_when_check_in_opens(
    client, open_session, settings, time_machine
):
    settings.GATHER_CHECK_IN_RATE_LIMIT = 1
    # At noon tomorrow, so that two hours before and the opening fall on the
    # same day whatever the time the test runs (else the page names the day).
    noon = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0)
    noon += dt.timedelta(days=1)
    EventSession.objects.filter(pk=open_session.pk).update(
        start=noon, end=noon + dt.timedelta(hours=2)
    )
    open_session.refresh_from_db()
    url = reverse("check_in", args=[check_in_code(open_session)])
    time_machine.move_to(open_session.start - dt.timedelta(hours=2))
    opens = timezone.localtime(open_session.start - dt.timedelta(minutes=30))
    for _ in range(3):  # early scans are not failed tries
        response = client.get(url)
        html = response.content.decode()
        assert response.status_code == 404
        assert "Check-in is not open" in html
        assert f"opens at {formats.time_format(opens)}, 30 minutes before" in html

    time_machine.move_to(open_session.end + dt.timedelta(minutes=5))
    assert "has ended" in client.get(url).content.decode()
    cancel_session(session=open_session, notify=False)
    assert "is cancelled" in client.get(url).content.decode()


def test_someone_marked_absent_who_arrives_can_check_in_and_is_late(
    client, open_session, facilitator, time_machine
):
    open_session.event.facilitators.add(facilitator)
    open_session.event.save_revision().publish()
    ana, ben = _confirmed(open_session.event, ["Ana Lopez", "Ben Ode"])
    time_machine.move_to(open_session.start + dt.timedelta(minutes=15))
    client.force_login(facilitator)
    client.post(
        _url("facilitate_attendance", open_session),
        {f"status-{ana.pk}": "absent", f"status-{ben.pk}": "present"},
    )
    client.logout()
    url = reverse("check_in", args=[check_in_code(open_session)])

    html = client.get(url).content.decode()
    assert "Ana L." in html and "Ben O." not in html

    done = client.post(url, {"person": str(ana.pk)}).content.decode()
    assert "Thank you, Ana L.!" in done and "already" not in done
    record = AttendanceRecord.objects.get(registration=ana)
    assert (record.status, record.method) == ("late", "self_check_in")
    entry = ModelLogEntry.objects.get(action="attendance.record.changed")
    assert entry.data["from"] == "absent" and entry.data["to"] == "late"


def test_someone_excused_who_comes_before_the_start_is_present(open_session):
    from attendance import records

    (ana,) = _confirmed(open_session.event, ["Ana Lopez"])
    AttendanceRecord.objects.create(
        session=open_session, registration=ana, status="excused"
    )
    record = records.check_in(session=open_session, registration=ana)
    assert record.status == "present"
    after_start = open_session.start + dt.timedelta(minutes=30)
    again = records.self_check_in_status(record, session=open_session, now=after_start)
    assert again is None  # already here: kept as it is


def test_look_alikes_are_told_apart_on_the_check_in_list(client, open_session):
    sam_lee, sam_lopez = _confirmed(open_session.event, ["Sam Lee", "Sam Lopez"])
    url = reverse("check_in", args=[check_in_code(open_session)])

    html = client.get(url).content.decode()
    assert "Sam Le." in html and "Sam Lo." in html
    assert "Sam L.<" not in html and "Lopez" not in html

    done = client.post(url, {"person": str(sam_lopez.pk)}).content.decode()
    assert "Thank you, Sam Lo.!" in done
    # The other Sam keeps the same label once the first has left the list.
    assert "Sam Le." in client.get(url).content.decode()


def test_people_the_list_cannot_tell_apart_are_asked_to_type_their_name(
    client, open_session
):
    johnson, johnston, ana = _confirmed(
        open_session.event, ["Sam Johnson", "Sam Johnston", "Ana Lopez"]
    )
    url = reverse("check_in", args=[check_in_code(open_session)])

    html = client.get(url).content.decode()
    assert "Ana L." in html
    assert f'value="{johnson.pk}"' not in html and f'value="{johnston.pk}"' not in html
    assert "Joh" not in html and "(1)" not in html
    assert (
        "2 people share the name Sam J., so it is not on the list. Please type "
        "your full name below, or tell the facilitator." in html
    )
    # Not on the list, so not a choice either.
    client.post(url, {"person": str(johnson.pk)})
    assert not AttendanceRecord.objects.exists()

    done = client.post(url, {"typed_name": "Sam Johnston"}).content.decode()
    assert "Thank you, Sam J.!" in done
    assert AttendanceRecord.objects.get().registration == johnston


def test_a_typed_name_two_people_share_checks_in_nobody_and_is_no_failed_try(
    client, open_session, settings
):
    settings.GATHER_CHECK_IN_RATE_LIMIT = 1
    _confirmed(open_session.event, ["Sam Lee", "Sam Lee"])
    url = reverse("check_in", args=[check_in_code(open_session)])

    for _ in range(3):
        response = client.post(url, {"typed_name": "sam lee"})
        html = response.content.decode()
        assert response.status_code == 200
        assert "More than one person has that name" in html
        assert "tell the facilitator" in html
        assert "could not find" not in html
    assert not AttendanceRecord.objects.exists()


def test_check_in_messages_use_the_code_length_and_opening_time(
    client, open_session, monkeypatch, time_machine
):
    from attendance import checkin

    monkeypatch.setattr(checkin, "CODE_LENGTH", 6)
    monkeypatch.setattr(checkin, "OPENS_BEFORE", dt.timedelta(minutes=45))
    assert "The 6 letters and numbers" in (
        client.get(reverse("check_in_start")).content.decode()
    )
    time_machine.move_to(open_session.start - dt.timedelta(hours=1))
    code = check_in_code(open_session)
    html = client.get(reverse("check_in", args=[code])).content.decode()
    assert "45 minutes before the session starts" in html


def test_not_open_yet_says_the_day_when_it_is_not_today(
    client, event_index, time_machine
):
    event = make_registration_event(event_index, capacity=5)
    start = timezone.make_aware(dt.datetime(2026, 12, 2, 9, 0))  # a Wednesday
    event.sessions.update(start=start, end=start + dt.timedelta(hours=2))
    url = reverse("check_in", args=[check_in_code(event.sessions.get())])

    time_machine.move_to(timezone.make_aware(dt.datetime(2026, 12, 1, 21, 30)))
    html = client.get(url).content.decode()
    assert "opens on Wednesday 2 December at 8:30 a.m., 30 minutes before" in html

    time_machine.move_to(timezone.make_aware(dt.datetime(2026, 12, 2, 7, 0)))
    html = client.get(url).content.decode()
    assert "opens at 8:30 a.m., 30 minutes before" in html
    assert "December" not in html.split("opens at")[1].split("</p>")[0]


def test_a_typed_code_leads_to_its_check_in_page(client, open_session):
    code = check_in_code(open_session)
    start = reverse("check_in_start")

    form = client.get(start)
    assert form.status_code == 200 and 'name="code"' in form.content.decode()
    typed = client.get(start, {"code": f" {code[:4].lower()}-{code[4:]} "})
    assert typed.status_code == 302
    assert typed.url == reverse("check_in", args=[code])
    empty = client.get(start, {"code": "  --  "}).content.decode()
    assert "Type the letters and numbers of the code." in empty

    wrong = client.get(reverse("check_in", args=["WRONGCOD"])).content.decode()
    assert "<h1>We could not find that code</h1>" in wrong
    assert "Check-in is not open" not in wrong
    assert f'action="{start}"' in wrong  # the code can be typed again
    assert 'value="WRONGCOD"' in wrong


def test_the_check_in_screen_says_where_to_type_the_code(
    client, open_session, facilitator
):
    open_session.event.facilitators.add(facilitator)
    open_session.event.save_revision().publish()
    client.force_login(facilitator)
    html = client.get(_url("facilitate_check_in_screen", open_session)).content
    assert b"http://testserver/check-in/</strong> and type the code" in html


@pytest.mark.parametrize(
    "data", [{"typed_name": "Nobody Here"}, {}, {"person": "999999"}]
)
def test_a_refused_check_in_shows_the_same_list_as_the_page(client, open_session, data):
    """A wrong name or no choice shows the list again, never more of it:
    people already here and look-alikes stay off it."""
    ana, ben, _sam1, _sam2 = _confirmed(
        open_session.event, ["Ana Lopez", "Ben Ode", "Sam Johnson", "Sam Johnston"]
    )
    url = reverse("check_in", args=[check_in_code(open_session)])
    client.post(url, {"person": str(ana.pk)})

    listed = client.get(url).content.decode()
    refused = client.post(url, data).content.decode()

    assert "Ben O." in refused
    assert "Ana L." not in refused and f'value="{ana.pk}"' not in refused
    assert "2 people share the name Sam J." in refused
    choices = re.compile(r'name="person" value="(\d+)"')
    assert choices.findall(refused) == choices.findall(listed) == [str(ben.pk)]


def test_a_typed_name_matches_whatever_its_spaces_and_case(
    client, open_session, settings
):
    settings.GATHER_CHECK_IN_RATE_LIMIT = 1
    chris, dana = _confirmed(open_session.event, ["Chris Lavoie", "Dana  Wong "])
    url = reverse("check_in", args=[check_in_code(open_session)])

    for typed in ("  chris   LAVOIE ", "DANA wong"):
        done = client.post(url, {"typed_name": typed}).content.decode()
        assert "You are checked in" in done
    assert set(AttendanceRecord.objects.values_list("registration", flat=True)) == {
        chris.pk,
        dana.pk,
    }
    assert client.get(url).status_code == 200  # no failed try was counted


def test_once_everyone_has_checked_in_the_page_says_so(client, open_session):
    ana, ben = _confirmed(open_session.event, ["Ana Lopez", "Ben Ode"])
    url = reverse("check_in", args=[check_in_code(open_session)])
    for person in (ana, ben):
        client.post(url, {"person": str(person.pk)})

    html = client.get(url).content.decode()
    assert "Everyone on the list has checked in." in html
    assert "Choose your name" not in html
    assert 'name="typed_name"' in html  # typing a name still works
    nothing = client.post(url, {}).content.decode()
    assert "Type the name you signed up with." in nothing
    again = client.post(url, {"typed_name": "ben ode"}).content.decode()
    assert "Ben O., you were already on the list." in again


def test_people_left_to_type_their_name_are_not_told_everyone_is_here(
    client, open_session
):
    ana, _sam1, _sam2 = _confirmed(
        open_session.event, ["Ana Lopez", "Sam Lee", "Sam Lee"]
    )
    url = reverse("check_in", args=[check_in_code(open_session)])
    client.post(url, {"person": str(ana.pk)})

    html = client.get(url).content.decode()
    assert "Everyone on the list has checked in." not in html
    assert "2 people share the name Sam L." in html


def test_mark_everyone_present_keeps_statuses_chosen_but_not_saved(
    client, session, facilitator, time_machine
):
    """The button is part of the attendance form: a status changed on screen
    and not saved yet is saved, then everyone still unmarked is present."""
    lena = sign_up(session.event, "Lena Park")
    sign_up(session.event, "Ben Ode")
    sign_up(session.event, "Cy Moss")
    time_machine.move_to(session.start)
    client.force_login(facilitator)

    response = client.post(
        _url("facilitate_attendance", session),
        {f"status-{lena.pk}": "excused", "everyone_present": "1"},
        follow=True,
    )

    statuses = dict(
        AttendanceRecord.objects.values_list("registration__name", "status")
    )
    assert statuses == {
        "Lena Park": "excused",
        "Ben Ode": "present",
        "Cy Moss": "present",
    }
    html = response.content.decode()
    assert "Attendance saved (1 change)." in html
    assert "2 people marked present." in html


def test_a_refused_facilitator_form_has_an_error_summary_at_the_top(
    client, session, facilitator, time_machine
):
    time_machine.move_to(session.start)
    client.force_login(facilitator)

    response = client.post(_url("facilitate_walk_in", session), {"name": ""})

    assert response.status_code == 400
    html = response.content.decode()
    assert re.search(r"<title>Error: ", html)
    summary = html.index('id="error-summary"')
    assert summary < html.index('id="attendance-heading"')
    assert 'href="#id_name"' in html[summary:]
    assert "autofocus" in html[summary - 80 : summary + 80]
    plain = client.get(_url("facilitate_session", session)).content.decode()
    assert "error-summary" not in plain and "<title>Error:" not in plain


def test_a_walk_in_added_twice_is_recorded_once(
    client, session, facilitator, time_machine
):
    time_machine.move_to(session.start)
    client.force_login(facilitator)
    url = _url("facilitate_walk_in", session)

    client.post(url, {"name": "Eve Stone"})
    again = client.post(url, {"name": "  eve   STONE "}, follow=True)

    assert [r.walk_in_name for r in AttendanceRecord.objects.all()] == ["Eve Stone"]
    assert "Eve Stone is already on the list as a walk-in." in again.content.decode()
    client.post(url, {"name": "Eve S."})  # someone else, told apart
    assert AttendanceRecord.objects.count() == 2
