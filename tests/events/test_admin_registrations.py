"""Coordinator screens for registrations: list, add by hand, cancel, promote,
move and change capacity, all through the registration workflows."""

import pytest
from django.core import mail
from django.urls import reverse

from events.models import Registration
from tests.conftest import make_registration_event, sign_up

pytestmark = [pytest.mark.django_db, pytest.mark.tasks]


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_listing_shows_confirmed_then_waitlist_in_order(admin_client, event_index):
    event = make_registration_event(event_index, capacity=1)
    for name in ["Ana", "Ben", "Cy"]:
        sign_up(event, name)
    response = admin_client.get(
        reverse("event_registrations:index"), {"event": event.pk}
    )
    rows = [(r.name, r.waitlist_position) for r in response.context["object_list"]]
    assert rows == [("Ana", None), ("Ben", 1), ("Cy", 2)]


def test_the_listing_reads_its_page_in_the_order_of_an_index(admin_client, event_index):
    """Unfiltered, the list was sorted on the joined event title, so the
    database sorted every registration before the first page (72 ms of SQL
    at 10x). It is now in the columns of ``registration_listing_order``,
    which the page walks and leaves after one page."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for title in ["B event", "A event"]:
        sign_up(make_registration_event(event_index, title=title), "Ana")
    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get(reverse("event_registrations:index"))
    assert response.status_code == 200
    (page,) = [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].startswith('SELECT "events_registration"."id"')
        and "LIMIT" in q["sql"]
    ]
    order_by = page.rsplit("ORDER BY", 1)[1].split("LIMIT")[0]
    columns = ["event_id", "status", "waitlist_position", "created_at"]
    assert [part.strip() for part in order_by.split(",")] == [
        f'"events_registration"."{column}" ASC' for column in columns
    ]
    (index,) = [
        index
        for index in Registration._meta.indexes
        if index.name == "registration_listing_order"
    ]
    assert index.fields == ["event", "status", "waitlist_position", "created_at"]


def test_add_by_hand_respects_capacity(admin_client, event_index):
    event = make_registration_event(event_index, capacity=1, waitlist=False)
    url = reverse("event_registrations:add")
    data = {"event": event.pk, "name": "Ana", "email": "ana@example.org", "phone": ""}
    assert admin_client.post(url, data).status_code == 302
    response = admin_client.post(url, data | {"name": "Ben", "email": "b@example.org"})
    assert "Sorry, this event is full." in response.content.decode()
    assert list(Registration.objects.values_list("name", flat=True)) == ["Ana"]


def test_adding_someone_already_registered_says_so_and_sends_nothing(
    admin_client, event_index, django_capture_on_commit_callbacks, run_tasks
):
    event = make_registration_event(event_index, capacity=5)
    sign_up(event, "Ana", email="ana@example.org")
    run_tasks()
    mail.outbox.clear()
    data = {"event": event.pk, "name": "Ana B.", "email": "ANA@example.org"}
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("event_registrations:add"), data)
    assert response.status_code == 200
    assert "Ana is already registered for this event (Confirmed)." in (
        response.content.decode()
    )
    assert mail.outbox == []
    assert Registration.objects.count() == 1


def test_cancel_asks_then_promotes_the_next_person(admin_client, event_index):
    event = make_registration_event(event_index, capacity=1)
    ana, ben = sign_up(event, "Ana"), sign_up(event, "Ben")
    url = reverse("event_registrations:cancel", args=[ana.pk])
    assert "Yes, cancel" in admin_client.get(url).content.decode()
    admin_client.post(url)
    ana.refresh_from_db()
    ben.refresh_from_db()
    assert (ana.status, ben.status) == ("cancelled", "confirmed")


def test_raising_capacity_promotes_from_the_waitlist(admin_client, event_index):
    event = make_registration_event(event_index, capacity=1)
    for name in ["Ana", "Ben", "Cy"]:
        sign_up(event, name)
    url = reverse("event_registrations:capacity", args=[event.pk])
    assert admin_client.post(url, {"capacity": "-3"}).status_code == 200  # refused
    response = admin_client.post(url, {"capacity": "2"}, follow=True)
    assert "Capacity saved. Ben got a place from the waitlist." in (
        response.content.decode()
    )
    statuses = dict(Registration.objects.values_list("name", "status"))
    assert statuses == {"Ana": "confirmed", "Ben": "confirmed", "Cy": "waitlisted"}
    response = admin_client.post(url, {"capacity": "1"}, follow=True)
    assert "2 people already have a place, more than 1" in response.content.decode()


def test_promote_refuses_when_full_and_move_gives_a_place_elsewhere(
    admin_client, event_index
):
    here = make_registration_event(event_index, capacity=1)
    there = make_registration_event(event_index, capacity=5)
    sign_up(here, "Ana")
    ben = sign_up(here, "Ben")
    admin_client.post(reverse("event_registrations:promote", args=[ben.pk]))
    ben.refresh_from_db()
    assert ben.status == "waitlisted"

    admin_client.post(
        reverse("event_registrations:move", args=[ben.pk]), {"to_event": there.pk}
    )
    moved = Registration.objects.get(event=there)
    assert (moved.name, moved.status) == ("Ben", "confirmed")


def test_plain_admin_users_cannot_change_registrations(
    client, django_user_model, event_index
):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("plain")
    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(user)
    event = make_registration_event(event_index)
    ana = sign_up(event, "Ana")
    client.post(reverse("event_registrations:cancel", args=[ana.pk]))
    ana.refresh_from_db()
    assert ana.status == "confirmed"


@pytest.fixture
def coordinator(django_user_model):
    """A non-superuser in the Coordinators group."""
    from django.contrib.auth.models import Group, Permission

    group, _ = Group.objects.get_or_create(name="Coordinators")
    group.permissions.add(
        Permission.objects.get(codename="access_admin"),
        *Permission.objects.filter(
            content_type__app_label="events",
            codename__in=["view_registration", "change_registration"],
        ),
    )
    user = django_user_model.objects.create_user("coordinator", password="pw")
    user.groups.add(group)
    return user


@pytest.fixture
def coordinator_client(client, coordinator):
    """Logged in as a non-superuser in the Coordinators group."""
    client.force_login(coordinator)
    return client


def _inspect_fields(response):
    """{label: shown value} of an inspect screen."""
    import re
    from html import unescape

    html = response.content.decode()
    pairs = re.findall(r"<dt[^>]*>(.*?)</dt>\s*<dd[^>]*>(.*?)</dd>", html, re.S)
    return {
        unescape(re.sub(r"<[^>]+>", "", label)).strip(): " ".join(
            unescape(re.sub(r"<[^>]+>", "", value)).split()
        )
        for label, value in pairs
    }


def test_inspect_shows_local_times_and_words(coordinator_client, event_index):
    import datetime as dt

    event = make_registration_event(event_index, capacity=1)
    ana = sign_up(event, "Ana", consent=["email"])
    ben = sign_up(event, "Ben")
    # 22:30 UTC on 14 January is 5:30 p.m. in Toronto.
    Registration.objects.filter(pk=ben.pk).update(
        created_at=dt.datetime(2027, 1, 14, 22, 30, tzinfo=dt.UTC),
        cancelled_at=dt.datetime(2027, 1, 15, 1, 5, tzinfo=dt.UTC),
        support_needs="",
    )
    ben_fields = _inspect_fields(
        coordinator_client.get(reverse("event_registrations:inspect", args=[ben.pk]))
    )
    assert ben_fields["Created at"] == "14 January 2027, 5:30 p.m. (Toronto time)"
    assert ben_fields["Cancelled at"] == "14 January 2027, 8:05 p.m. (Toronto time)"
    assert ben_fields["Consents"] == (
        "Email: not given; Text message: not given; Phone call: not given"
    )
    assert ben_fields["Support needs"] == "Not given"
    assert ben_fields["Waitlist position"] == "1"
    ana_fields = _inspect_fields(
        coordinator_client.get(reverse("event_registrations:inspect", args=[ana.pk]))
    )
    assert ana_fields["Consents"].startswith("Email: given ")
    assert "(wording 2026-12)" in ana_fields["Consents"]
    assert ana_fields["Waitlist position"] == "Not on the waitlist"
    assert ana_fields["Cancelled at"] == "Not cancelled"


def _messages(response):
    return [str(message) for message in response.context["messages"]]


def test_cancelling_a_place_says_who_got_it_and_whom_to_call(admin_client, event_index):
    event = make_registration_event(event_index, capacity=1)
    ana = sign_up(event, "Ana")
    sign_up(event, "Ben", email="", phone="416 555 0199")
    response = admin_client.post(
        reverse("event_registrations:cancel", args=[ana.pk]), follow=True
    )
    assert _messages(response) == [
        "Registration of Ana cancelled. Ben got a place from the waitlist. "
        "Ben can only be reached by phone: they are on the call list."
    ]


def test_giving_a_place_names_the_person(admin_client, event_index):
    event = make_registration_event(event_index, capacity=1)
    sign_up(event, "Ana")
    ben = sign_up(event, "Ben")
    cy = sign_up(event, "Cy")
    # A free place that nobody has been promoted into yet
    event.capacity = 2
    event.save()
    response = admin_client.post(
        reverse("event_registrations:promote", args=[cy.pk]), follow=True
    )
    assert _messages(response) == ["Cy got a place from the waitlist."]
    ben.refresh_from_db()
    assert ben.status == "waitlisted"


def test_confirm_screens_say_how_the_person_is_told(admin_client, event_index):
    event = make_registration_event(event_index, capacity=1)
    ana = sign_up(event, "Ana", email="ana@example.org")
    ben = sign_up(event, "Ben", email="", phone="416 555 0199")
    by_email = admin_client.get(reverse("event_registrations:cancel", args=[ana.pk]))
    assert "They are told by email." in by_email.content.decode()
    for name in ("cancel", "promote"):
        by_phone = admin_client.get(
            reverse(f"event_registrations:{name}", args=[ben.pk])
        )
        html = by_phone.content.decode()
        assert "They gave no email, so nobody is told: call them." in html, name
        assert "told by email" not in html, name


# Who sees whose registrations ---------------------------------------------------


@pytest.fixture
def facilitator(django_user_model, facilitators_group):
    """A facilitator with admin access and every registrations permission:
    only the rule (``registrations_visible_to``) keeps other groups' people
    from them."""
    from django.contrib.auth.models import Permission

    facilitators_group.permissions.add(
        Permission.objects.get(codename="access_admin"),
        *Permission.objects.filter(
            content_type__app_label="events", codename__endswith="_registration"
        ),
    )
    user = django_user_model.objects.create_user("fac", password="pw")
    user.groups.add(facilitators_group)
    return user


@pytest.fixture
def two_groups(event_index, facilitator):
    """The facilitator's group and another one, two people in each."""
    mine = make_registration_event(event_index, capacity=1, title="Mine")
    mine.facilitators.add(facilitator)
    mine.save()
    theirs = make_registration_event(event_index, capacity=1, title="Theirs")
    people = {
        "Ana Mine": sign_up(mine, "Ana Mine", email="ana@example.org"),
        "Ben Mine": sign_up(mine, "Ben Mine", email="ben@example.org"),
        "Cy Theirs": sign_up(theirs, "Cy Theirs", email="cy@example.org"),
        "Di Theirs": sign_up(theirs, "Di Theirs", email="di@example.org"),
    }
    return mine, theirs, people


def _listed(client, **params):
    response = client.get(reverse("event_registrations:index"), params)
    assert response.status_code == 200
    return [(r.event.title, r.name) for r in response.context["object_list"]]


def test_a_facilitator_lists_and_finds_only_their_groups_people(
    client, facilitator, coordinator, two_groups
):
    mine, theirs, _people = two_groups
    client.force_login(facilitator)
    assert _listed(client) == [("Mine", "Ana Mine"), ("Mine", "Ben Mine")]
    assert _listed(client, q="Ben") == [("Mine", "Ben Mine")]
    # A name, an email or a whole event of another group finds nothing.
    assert _listed(client, q="Cy Theirs") == []
    assert _listed(client, q="di@example.org") == []
    # Another group's event is not a valid choice: the filter is ignored
    # (Wagtail's way with an invalid filter), and their people stay hidden.
    assert {title for title, _name in _listed(client, event=theirs.pk)} == {"Mine"}
    html = client.get(reverse("event_registrations:index")).content.decode()
    assert "Ana Mine" in html
    assert "Cy Theirs" not in html and "Di Theirs" not in html
    client.force_login(coordinator)
    assert _listed(client, q="example.org") == [
        ("Mine", "Ana Mine"),
        ("Mine", "Ben Mine"),
        ("Theirs", "Cy Theirs"),
        ("Theirs", "Di Theirs"),
    ]


def test_staff_who_facilitate_nothing_see_nobody(client, django_user_model, two_groups):
    from django.contrib.auth.models import Permission

    _mine, _theirs, people = two_groups
    staff = django_user_model.objects.create_user("staff", password="pw")
    staff.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["access_admin", "view_registration", "change_registration"]
        )
    )
    client.force_login(staff)
    assert _listed(client) == []
    url = reverse("event_registrations:inspect", args=[people["Ana Mine"].pk])
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    "name",
    ["inspect", "edit", "delete", "history", "usage", "cancel", "promote", "move"],
)
def test_another_groups_registration_is_404_on_every_screen(
    client, facilitator, two_groups, name
):
    _mine, _theirs, people = two_groups
    client.force_login(facilitator)
    own = client.get(
        reverse(f"event_registrations:{name}", args=[people["Ben Mine"].pk])
    )
    assert own.status_code == 200
    other = people["Di Theirs"]
    url = reverse(f"event_registrations:{name}", args=[other.pk])
    response = client.get(url)
    assert response.status_code == 404
    assert "Di Theirs" not in response.content.decode()


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("cancel", {}),
        ("promote", {}),
        ("move", "to_mine"),
        ("edit", {"name": "Renamed", "email": "x@example.org", "phone": ""}),
        ("delete", {}),
    ],
)
def test_another_groups_registration_cannot_be_changed(
    client, facilitator, two_groups, name, data
):
    mine, _theirs, people = two_groups
    other = people["Di Theirs"]  # waiting for a place on their group
    if data == "to_mine":
        data = {"to_event": mine.pk}
    before = list(Registration.objects.order_by("pk").values())
    client.force_login(facilitator)
    response = client.post(
        reverse(f"event_registrations:{name}", args=[other.pk]), data
    )
    assert response.status_code == 404
    assert list(Registration.objects.order_by("pk").values()) == before


def _exported(client, **params):
    import json

    response = client.get(
        reverse("spreadsheets_export", args=["registrations"]),
        {"format": "json", **params},
    )
    assert response.status_code == 200
    return [(row["event"], row["name"]) for row in json.loads(response.content)]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": "example.org"},
        {"q": "Cy Theirs"},
        {"status": "waitlisted"},
    ],
)
def test_the_export_holds_the_rows_the_list_shows(
    client, facilitator, two_groups, params
):
    client.force_login(facilitator)
    exported = _exported(client, **params)
    assert exported == _listed(client, **params)
    assert {title for title, _name in exported} <= {"Mine"}


def test_another_groups_event_is_refused_by_the_export_and_named_nowhere(
    client, facilitator, two_groups
):
    """The listing ignores an event the user may not see (an invalid
    filter); the export refuses it rather than export something else. The
    event's title shows on neither."""
    _mine, theirs, _people = two_groups
    client.force_login(facilitator)
    response = client.get(
        reverse("spreadsheets_export", args=["registrations"]),
        {"format": "json", "event": theirs.pk},
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "nothing was exported" in page
    listing = client.get(reverse("event_registrations:index"), {"event": theirs.pk})
    assert listing.status_code == 200
    assert "Theirs" not in listing.content.decode()


def test_a_coordinators_export_holds_everyone_and_a_facilitators_their_own(
    client, facilitator, coordinator, two_groups
):
    client.force_login(facilitator)
    assert _exported(client) == [("Mine", "Ana Mine"), ("Mine", "Ben Mine")]
    client.force_login(coordinator)
    assert _exported(client) == _listed(client)
    assert len(_exported(client)) == 4


def test_the_listing_costs_the_same_queries_for_many_people(
    client, facilitator, event_index, django_assert_max_num_queries
):
    mine = make_registration_event(event_index, capacity=50, title="Mine")
    mine.facilitators.add(facilitator)
    mine.save()
    other = make_registration_event(event_index, capacity=50, title="Other")
    sign_up(mine, "Ana")
    sign_up(other, "Bo")
    client.force_login(facilitator)
    url = reverse("event_registrations:index")
    # 40, and the session's save on every request (SESSION_SAVE_EVERY_REQUEST,
    # for the staff idle timeout), which the number of people does not change.
    with django_assert_max_num_queries(43) as few:
        assert client.get(url).status_code == 200
    for number in range(20):
        sign_up(mine, f"Person {number}")
        sign_up(other, f"Other {number}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert response.context["paginator"].count == 21  # only the facilitator's


def test_adding_someone_to_another_groups_event_says_nothing_about_them(
    client, facilitator, two_groups
):
    """Whether Cy attends another group must not show as "already
    registered": that event is not a choice at all."""
    mine, theirs, _people = two_groups
    client.force_login(facilitator)
    url = reverse("event_registrations:add")
    data = {"name": "Cy", "email": "cy@example.org", "phone": ""}
    response = client.post(url, data | {"event": theirs.pk})
    html = response.content.decode()
    assert response.status_code == 200
    assert "already registered" not in html and "Cy Theirs" not in html
    assert not Registration.objects.filter(name="Cy").exists()
    assert client.post(url, data | {"event": mine.pk}).status_code == 302
    assert Registration.objects.filter(name="Cy", event=mine).exists()


def test_nobody_is_moved_into_another_groups_event(client, facilitator, two_groups):
    _mine, theirs, people = two_groups
    ben = people["Ben Mine"]
    client.force_login(facilitator)
    url = reverse("event_registrations:move", args=[ben.pk])
    response = client.post(url, {"to_event": theirs.pk})
    assert response.status_code == 200  # the form again, with its error
    ben.refresh_from_db()
    assert ben.event_id != theirs.pk


def test_another_groups_capacity_screen_is_404(client, facilitator, two_groups):
    mine, theirs, _people = two_groups
    client.force_login(facilitator)
    url = reverse("event_registrations:capacity", args=[theirs.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"capacity": "5"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.capacity == 1
