"""The event chooser (``events.choosers``) and the three screens that pick an
event with it: the registrations listing's filter, the attendance reports
form and the registrations spreadsheet import."""

import json
import re

import pytest
from django.urls import NoReverseMatch, reverse

from tests.conftest import make_event, make_registration_event, make_session, sign_up

pytestmark = pytest.mark.django_db


def _user(django_user_model, name, group_name, *codenames):
    from django.contrib.auth.models import Group, Permission

    group, _ = Group.objects.get_or_create(name=group_name)
    group.permissions.add(
        Permission.objects.get(codename="access_admin"),
        *Permission.objects.filter(
            content_type__app_label="events", codename__in=codenames
        ),
    )
    user = django_user_model.objects.create_user(name, password="pw")
    user.groups.add(group)
    return user


REGISTRATION_PERMISSIONS = (
    "view_registration",
    "add_registration",
    "change_registration",
)


@pytest.fixture
def coordinator(django_user_model):
    return _user(
        django_user_model, "coordinator", "Coordinators", *REGISTRATION_PERMISSIONS
    )


@pytest.fixture
def facilitator(django_user_model):
    """A facilitator who also holds the registrations permissions: only
    ``events_visible_to`` keeps other events from them."""
    return _user(django_user_model, "fac", "Facilitators", *REGISTRATION_PERMISSIONS)


@pytest.fixture
def events(event_index, facilitator):
    mine = make_registration_event(event_index, capacity=10, title="Mine circle")
    mine.facilitators.add(facilitator)
    mine.save()
    theirs = make_registration_event(event_index, capacity=10, title="Theirs walk")
    return mine, theirs


def _choose(client, **params):
    response = client.get(reverse("event_chooser:choose"), params)
    assert response.status_code == 200
    return json.loads(response.content)["html"]


def _results(client, **params):
    response = client.get(reverse("event_chooser:choose_results"), params)
    assert response.status_code == 200
    return response.content.decode()


def test_the_modal_lists_and_searches_only_the_users_events(
    client, facilitator, coordinator, events
):
    client.force_login(facilitator)
    html = _choose(client)
    assert "Mine circle" in html and "Theirs walk" not in html
    assert "Mine circle" in _results(client, q="circle")
    assert "Theirs walk" not in _results(client, q="Theirs")
    # No "create" tab: events are made in the page tree.
    with pytest.raises(NoReverseMatch):
        reverse("event_chooser:create")

    client.force_login(coordinator)
    html = _choose(client)
    assert "Mine circle" in html and "Theirs walk" in html
    found = _results(client, q="walk")
    assert "Theirs walk" in found and "Mine circle" not in found
    # Symbols and quotes are left out of the search, never an error.
    assert "Theirs walk" in _results(client, q='"walk')


def test_the_modal_shows_one_page_of_events_with_their_first_date(
    client, coordinator, event_index
):
    import datetime as dt

    from django.utils import timezone
    from django.utils.formats import date_format

    for number in range(25):
        make_event(event_index, title=f"Group {number:02d}")
    first = make_session(
        make_event(event_index, title="Group 00 again"),
        start=timezone.make_aware(dt.datetime(2027, 3, 4, 18)),
    )
    client.force_login(coordinator)
    html = _choose(client)
    assert "Group 00" in html and "Group 24" not in html  # 20 a page
    assert "Group 24" in _results(client, p=2)
    # Events of similar titles are told apart by their first date.
    found = _results(client, q="again")
    assert first.event.title in found
    assert date_format(dt.date(2027, 3, 4)) in found
    response = client.get(reverse("event_chooser:choose_results"), {"p": "99"})
    assert response.status_code == 404


def _titles(html):
    """The event titles a page of the modal lists, in order."""
    found = re.findall(r"data-chooser-modal-choice[^>]*>([^<]+)</a>", html)
    return [title.strip() for title in found]


def test_the_modal_counts_only_as_far_as_the_page_asked_for(
    client, coordinator, event_index, monkeypatch
):
    """Counting every event that matches a common word read all of them;
    the count stops at the limit (or one past the page asked for), says
    "more than", and every page beyond it still lists its events in title
    order, the same events as before the count stopped."""
    from events.choosers import EventChooserPaginator

    for number in range(45):
        make_event(event_index, title=f"Group {number:02d}")
    make_event(event_index, title="Walk")
    client.force_login(coordinator)
    everything = [f"Group {number:02d}" for number in range(45)]
    monkeypatch.setattr(EventChooserPaginator, "COUNT_LIMIT", 10_000)
    exact = [_results(client, q="grou", p=page) for page in (1, 2, 3)]
    assert "There are 45 matches" in exact[0]
    assert "Page 1 of 3" in exact[0]

    monkeypatch.setattr(EventChooserPaginator, "COUNT_LIMIT", 20)
    first = _results(client, q="grou")
    assert "There are more than 20 matches" in first
    assert "More than 20 events" in first
    assert "p=2" in first  # a link to the next page
    # Page 3 counts up to 61: all 45, exactly.
    pages = [first, _results(client, q="grou", p=2), _results(client, q="grou", p=3)]
    assert "There are 45 matches" in pages[2] and "Page 3 of 3" in pages[2]
    assert [_titles(page) for page in pages] == [_titles(page) for page in exact]
    assert sum((_titles(page) for page in pages), []) == everything
    # Not searching, the first page counts up to the limit too.
    assert "More than 20 events" in _choose(client)
    for page in ["4", "99", "abc", "0"]:
        response = client.get(
            reverse("event_chooser:choose_results"), {"q": "grou", "p": page}
        )
        assert response.status_code == 404, page


def test_the_count_reads_no_further_than_the_limit(
    client, coordinator, event_index, monkeypatch
):
    """The count is one query, bounded by the limit (LIMIT 21), not a count
    of every match."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from events.choosers import EventChooserPaginator

    monkeypatch.setattr(EventChooserPaginator, "COUNT_LIMIT", 20)
    make_event(event_index, title="Group 1")
    client.force_login(coordinator)
    with CaptureQueriesContext(connection) as queries:
        _results(client, q="group")
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"]]
    assert len(counts) == 1
    assert "LIMIT 21" in counts[0]


def test_the_search_makes_as_many_queries_for_many_events_as_for_few(
    client, coordinator, event_index, django_assert_max_num_queries
):
    for number in range(3):
        make_event(event_index, title=f"Recovery circle {number}")
    client.force_login(coordinator)
    _results(client, q="recovery circle")
    with django_assert_max_num_queries(100) as few:
        _results(client, q="recovery circle")
    for number in range(60):
        make_event(event_index, title=f"Recovery circle extra {number}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = _results(client, q="recovery circle")
    assert len(_titles(html)) == 20


def test_odd_searches_answer_without_an_error(client, coordinator, event_index):
    make_event(event_index, title="The circle of friends")
    make_event(event_index, title="Walk")
    client.force_login(coordinator)
    # Parts of words are found, in any case, as before.
    assert _titles(_results(client, q="IRCL")) == ["The circle of friends"]
    assert _titles(_results(client, q="the of")) == ["The circle of friends"]
    for query in ["", "   ", "!!! ??? ''", '"', "%", "_", "\\", "a" * 200, "x " * 100]:
        response = client.get(reverse("event_chooser:choose_results"), {"q": query})
        assert response.status_code == 200, query
    # Symbols alone leave no words: nothing is searched for, all listed.
    for query in ["", "%", "?! %"]:
        assert _titles(_results(client, q=query)) == ["The circle of friends", "Walk"]
    assert _titles(_results(client, q="walk %")) == ["Walk"]
    # Longer than the box takes: the search is refused and everything listed.
    assert len(_titles(_results(client, q="circle " * 40))) == 2


def test_the_titles_are_indexed_for_the_chooser():
    """The chooser's search reads page titles in title order from an index
    (events migration 0026), so its page stops when it is full."""
    from django.db import connection

    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(
            cursor, "wagtailcore_page"
        )
    assert any(
        info["index"] and info["columns"] == ["title"] for info in constraints.values()
    )


def test_choosing_answers_only_for_an_event_the_user_may_see(
    client, facilitator, events
):
    mine, theirs = events
    client.force_login(facilitator)
    chosen = client.get(reverse("event_chooser:chosen", args=[mine.pk]))
    assert chosen.status_code == 200
    assert json.loads(chosen.content)["result"]["title"] == "Mine circle"
    for pk in [theirs.pk, "abc", "99999999999999999999999", "0"]:
        response = client.get(reverse("event_chooser:chosen", args=[pk]))
        assert response.status_code == 404, pk
        assert b"Theirs walk" not in response.content
    several = client.get(
        reverse("event_chooser:chosen_multiple"),
        {"id": [mine.pk, theirs.pk, "abc", "99999999999999999999999"]},
    )
    assert several.status_code == 200
    titles = [item["title"] for item in json.loads(several.content)["result"]]
    assert titles == ["Mine circle"]


def test_the_modal_is_for_admin_users_only(client, events):
    response = client.get(reverse("event_chooser:choose"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("wagtailadmin_login"))


# The registrations listing -------------------------------------------------------


def _listing(client, **params):
    response = client.get(reverse("event_registrations:index"), params)
    assert response.status_code == 200
    return response


def test_the_listing_names_only_the_chosen_event(client, facilitator, events):
    mine, theirs = events
    sign_up(mine, "Ana Mine")
    client.force_login(facilitator)
    html = _listing(client, event=mine.pk).content.decode()
    assert "Ana Mine" in html
    assert "Theirs walk" not in html  # no list of events
    assert reverse("event_chooser:choose") in html
    for value in [theirs.pk, "abc", "99999999999999999999999", "-1", "1\x00"]:
        html = _listing(client, event=value).content.decode()
        assert "Theirs walk" not in html
        assert "Ana Mine" in html  # the invalid filter is ignored


def assert_weight_does_not_grow(
    client, get, add_events, assert_max_queries, *, added="Extra", slack=100
):
    """Open a screen (``get()`` returns the response) once to warm caches,
    then again, add many events (``add_events()``, titles starting with
    ``added``) and open it a third time: no more queries than before, about
    the same size (within ``slack`` bytes, for ids and tokens), and none of
    the added events named. A screen with a drop-down of every event fails
    all three."""
    get()
    with assert_max_queries(100) as few:
        before = get()
    add_events()
    with assert_max_queries(len(few.captured_queries)):
        after = get()
    assert before.status_code == after.status_code == 200
    assert added not in after.content.decode()
    assert abs(len(after.content) - len(before.content)) < slack


def test_the_listing_weighs_the_same_whatever_the_number_of_events(
    client, coordinator, events, event_index, django_assert_max_num_queries
):
    """The page held one option per event and per drop-in date: it grew
    with the program's history. Now it holds the chosen event only."""
    mine, _theirs = events
    for number in range(3):
        sign_up(mine, f"Person {number}")
    client.force_login(coordinator)

    def add_events():
        for number in range(30):
            drop_in = make_event(
                event_index, title=f"Extra drop-in {number}", sign_up_per="session"
            )
            make_session(drop_in)

    assert_weight_does_not_grow(
        client,
        lambda: _listing(client, event=mine.pk),
        add_events,
        django_assert_max_num_queries,
    )


def _add_events(event_index, count=30):
    """``count`` published events, each with a session (none drop-in: the
    add form's date drop-down lists drop-in dates)."""

    def add():
        for number in range(count):
            make_registration_event(event_index, title=f"Extra event {number}")

    return add


def test_the_date_filter_takes_a_date_and_refuses_nonsense(client, coordinator, events):
    mine, _theirs = events
    sign_up(mine, "Ana Mine")
    client.force_login(coordinator)
    for value in ["2027-02-30", "abc", "9999-12-31", "0001-01-01"]:
        response = _listing(client, date=value)
        assert response.status_code == 200, value
    # A date with no drop-in places on it lists nobody.
    assert "Ana Mine" not in _listing(client, date="2027-01-01").content.decode()


# The attendance reports form --------------------------------------------------------


def test_the_reports_form_picks_an_event_in_the_chooser(
    client, admin_user, event_index
):
    wrap = make_event(event_index, title="WRAP group")
    make_event(event_index, title="Naloxone training")
    client.force_login(admin_user)
    html = client.get(reverse("attendance_reports")).content.decode()
    assert "Naloxone training" not in html and "WRAP group" not in html
    assert reverse("event_chooser:choose") in html
    assert "chooser-widget.js" in html  # the widget's script is on the page
    chosen = client.get(reverse("attendance_reports"), {"event": wrap.pk})
    assert chosen.context["form"].cleaned_data["event"] == wrap
    assert "Naloxone training" not in chosen.content.decode()


# The registrations import ------------------------------------------------------------


def test_the_import_form_picks_one_of_the_users_events(client, facilitator, events):
    from django.core.files.uploadedfile import SimpleUploadedFile

    mine, theirs = events
    client.force_login(facilitator)
    url = reverse("spreadsheets_import", args=["registrations"])
    html = client.get(url).content.decode()
    assert "Mine circle" not in html and "Theirs walk" not in html
    assert reverse("event_chooser:choose") in html
    assert "chooser-widget.js" in html
    for value in [theirs.pk, "abc", "99999999999999999999999"]:
        upload = SimpleUploadedFile("r.csv", b"name,email\nAna,ana@example.org\n")
        response = client.post(url, {"file": upload, "event": value})
        assert response.status_code == 200, value
        form = response.context["form"]
        assert "event" in form.errors
        assert "Theirs walk" not in response.content.decode()
    upload = SimpleUploadedFile("r.csv", b"name,email\nAna,ana@example.org\n")
    response = client.post(url, {"file": upload, "event": mine.pk})
    assert response.status_code == 302


# Wagtail's own page chooser -------------------------------------------------------


def test_the_page_chooser_shows_a_facilitator_no_pages(
    search_index, client, facilitator, coordinator, events
):
    """A facilitator has no page permissions: the page chooser's listing and
    its search find nothing (not their own event's page either: they reach
    it through the event chooser), while a coordinator's find every event."""
    mine, theirs = events
    from wagtail.models import Page

    client.force_login(facilitator)
    home = Page.objects.get(depth=2)
    browse = client.get(reverse("wagtailadmin_choose_page_child", args=[home.pk]))
    assert browse.status_code == 200
    assert "Theirs walk" not in json.loads(browse.content)["html"]
    search = client.get(reverse("wagtailadmin_choose_page_search"), {"q": "walk"})
    assert search.status_code == 200
    assert "Theirs walk" not in search.content.decode()
    assert (
        "Mine circle"
        not in client.get(
            reverse("wagtailadmin_choose_page_search"), {"q": "circle"}
        ).content.decode()
    )

    from tests.conftest import role_group

    coordinator.groups.set([role_group("Coordinators")])
    client.force_login(coordinator)
    search = client.get(reverse("wagtailadmin_choose_page_search"), {"q": "walk"})
    assert "Theirs walk" in search.content.decode()


def test_the_sessions_listing_filters_by_an_event_it_does_not_list(
    client, admin_user, event_index
):
    wrap = make_event(event_index, title="WRAP group")
    make_session(wrap)
    other = make_event(event_index, title="Naloxone training")
    make_session(other)
    client.force_login(admin_user)
    url = reverse("event_sessions:index")
    response = client.get(url, {"event": wrap.pk})
    html = response.content.decode()
    assert reverse("event_chooser:choose") in html
    assert "Naloxone training" not in html
    assert [s.event_id for s in response.context["object_list"]] == [wrap.pk]
    for value in ["abc", "99999999999999999999999"]:
        assert client.get(url, {"event": value}).status_code == 200


# The staff forms: add someone, move someone, message a group ----------------------


def test_the_add_form_picks_one_of_the_users_events(
    client, facilitator, events, event_index, django_assert_max_num_queries
):
    mine, theirs = events
    client.force_login(facilitator)
    url = reverse("event_registrations:add")
    html = client.get(url).content.decode()
    assert "Mine circle" not in html and "Theirs walk" not in html
    assert reverse("event_chooser:choose") in html
    assert "chooser-widget.js" in html
    person = {"name": "Cy", "email": "cy@example.org", "phone": ""}
    for value in [theirs.pk, "abc", "99999999999999999999999", ""]:
        response = client.post(url, person | {"event": value})
        assert response.status_code == 200, value
        assert "event" in response.context["form"].errors
        assert "Theirs walk" not in response.content.decode()
    # The chosen event shows again with the form's other errors.
    response = client.post(url, {"name": "Cy", "email": "", "event": mine.pk})
    assert "Give an email address or a phone number." in response.content.decode()
    assert "Mine circle" in response.content.decode()
    assert client.post(url, person | {"event": mine.pk}).status_code == 302
    assert mine.registrations.filter(name="Cy").exists()
    assert_weight_does_not_grow(
        client,
        lambda: client.get(url),
        _add_events(event_index),
        django_assert_max_num_queries,
    )


def test_the_move_form_picks_another_published_event_of_the_user(
    client, facilitator, events, event_index, django_assert_max_num_queries
):
    mine, theirs = events
    ana = sign_up(mine, "Ana Mine")
    draft = make_registration_event(event_index, title="Mine draft", publish=False)
    draft.facilitators.add(facilitator)
    draft.save()
    other = make_registration_event(event_index, title="Mine other")
    other.facilitators.add(facilitator)
    other.save()
    client.force_login(facilitator)
    url = reverse("event_registrations:move", args=[ana.pk])
    html = client.get(url).content.decode()
    assert "Theirs walk" not in html and "Mine other" not in html
    assert reverse("event_chooser:choose") in html
    assert "chooser-widget.js" in html
    for value in [theirs.pk, mine.pk, draft.pk, "abc", "99999999999999999999999"]:
        response = client.post(url, {"to_event": value})
        assert response.status_code == 200, value
        assert "to_event" in response.context["form"].errors
        assert "Theirs walk" not in response.content.decode()
    ana.refresh_from_db()
    assert ana.event_id == mine.pk
    assert client.post(url, {"to_event": other.pk}).status_code == 302
    assert other.registrations.filter(name="Ana Mine").exists()
    ben = sign_up(mine, "Ben Mine")
    url = reverse("event_registrations:move", args=[ben.pk])
    assert_weight_does_not_grow(
        client,
        lambda: client.get(url),
        _add_events(event_index),
        django_assert_max_num_queries,
    )


def test_the_message_form_weighs_the_same_whatever_the_number_of_events(
    client, coordinator, events, event_index, django_assert_max_num_queries
):
    from django.contrib.auth.models import Group

    from events.groups import COORDINATORS_GROUP

    coordinator.groups.add(Group.objects.get_or_create(name=COORDINATORS_GROUP)[0])
    client.force_login(coordinator)
    url = reverse("attendance_group_message_choose")
    html = client.get(url).content.decode()
    assert reverse("event_chooser:choose") in html
    assert "chooser-widget.js" in html
    assert_weight_does_not_grow(
        client,
        lambda: client.get(url),
        _add_events(event_index),
        django_assert_max_num_queries,
    )


def _modal_url(html, field):
    """The chooser modal's address that the form's ``field`` opens."""
    import html as html_module
    import re

    match = re.search(
        rf'id="{field}-chooser"[^>]*data-chooser-url="([^"]+)"'
        rf'|data-chooser-url="([^"]+)"[^>]*id="{field}-chooser"',
        html,
    )
    if match is None:
        match = re.search(r'"modalUrl": "([^"]+)"', html_module.unescape(html))
    assert match, f"no chooser for {field}"
    return html_module.unescape(next(group for group in match.groups() if group))


@pytest.fixture
def scoped_events(events, event_index, facilitator):
    """Beside ``events``: a draft with sign-up, an event without sign-up and
    another published event with sign-up, all the facilitator's."""
    found = {}
    for title, overrides in [
        ("Mine draft", {"publish": False}),
        ("Mine talk", {"registration_mode": "none"}),
        ("Mine other", {}),
    ]:
        event = make_registration_event(event_index, title=title, **overrides)
        event.facilitators.add(facilitator)
        event.save()
        found[title] = event
    return found


def _offered(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200
    html = json.loads(response.content)["html"]
    titles = ["Mine circle", "Theirs walk", "Mine draft", "Mine talk", "Mine other"]
    return {title for title in titles if title in html}, html


def test_the_add_and_move_choosers_offer_only_what_their_forms_accept(
    client, facilitator, events, scoped_events
):
    """Add a registration: the user's events with sign-up, drafts included
    (the form takes them). Move to: the published ones of those, not the
    person's own. The listings' filter still offers every event of theirs."""
    mine, theirs = events
    ana = sign_up(mine, "Ana Mine")
    client.force_login(facilitator)

    add_html = client.get(reverse("event_registrations:add")).content.decode()
    add_modal = _modal_url(add_html, "id_event")
    assert "for=add" in add_modal
    offered, _html = _offered(client, add_modal)
    assert offered == {"Mine circle", "Mine draft", "Mine other"}

    move_url = reverse("event_registrations:move", args=[ana.pk])
    move_modal = _modal_url(client.get(move_url).content.decode(), "id_to_event")
    offered, html = _offered(client, move_modal)
    assert offered == {"Mine other"}
    # Searching and choosing keep to the same events.
    results_url = reverse("event_chooser:choose_results")
    query = move_modal.split("?", 1)[1]
    searched = client.get(f"{results_url}?{query}&q=Mine").content.decode()
    assert "Mine other" in searched and "Mine circle" not in searched
    chosen = reverse("event_chooser:chosen", args=[scoped_events["Mine other"].pk])
    assert f"{chosen}?" in html and "for=move" in html
    assert client.get(f"{chosen}?{query}").status_code == 200
    own = reverse("event_chooser:chosen", args=[mine.pk])
    assert client.get(f"{own}?{query}").status_code == 404
    assert client.get(own).status_code == 200  # the filters' chooser

    offered, _html = _offered(client, reverse("event_chooser:choose"))
    assert offered == {"Mine circle", "Mine draft", "Mine talk", "Mine other"}
    response = client.get(reverse("event_chooser:choose"), {"for": "nonsense"})
    assert response.status_code == 404


def test_a_forged_event_is_still_the_add_form_s_error(
    client, facilitator, events, scoped_events
):
    """An id the chooser would not offer, posted by hand, is refused next
    to the field, and adds no one."""
    client.force_login(facilitator)
    url = reverse("event_registrations:add")
    person = {"name": "Cy", "email": "cy@example.org", "phone": ""}
    for event in (scoped_events["Mine talk"], events[1]):
        response = client.post(url, person | {"event": event.pk})
        assert response.status_code == 200
        assert "event" in response.context["form"].errors
    assert not scoped_events["Mine talk"].registrations.exists()
    draft = scoped_events["Mine draft"]
    assert client.post(url, person | {"event": draft.pk}).status_code == 302
    assert draft.registrations.filter(name="Cy").exists()


def test_the_message_chooser_offers_the_events_that_may_be_messaged(
    client, facilitator, events, scoped_events
):
    client.force_login(facilitator)
    html = client.get(reverse("attendance_group_message_choose")).content.decode()
    modal = _modal_url(html, "id_event")
    assert "for=message" in modal
    offered, _html = _offered(client, modal)
    assert offered == {"Mine circle", "Mine draft", "Mine talk", "Mine other"}
