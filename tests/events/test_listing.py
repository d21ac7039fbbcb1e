"""The public events listing: what it shows, filters, search, bad input."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from events.models import MAX_SESSION_LENGTH, EventSession
from events.sessions import cancel_session
from tests.conftest import make_event, make_session, make_venue

pytestmark = pytest.mark.django_db


def _local(days, hour=18):
    day = timezone.localdate() + dt.timedelta(days=days)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def _get(client, index, **params):
    response = client.get(index.url, params)
    assert response.status_code == 200
    return response


def _titles(response):
    return {session.event.title for session in response.context["sessions"]}


def test_lists_upcoming_sessions_grouped_by_date_and_not_past_ones(
    site_client, event_index
):
    event = make_event(event_index, title="Walking group")
    make_session(event, start=_local(1))
    make_session(event, start=_local(1, hour=10))
    make_session(event, start=_local(3))
    past = make_event(event_index, title="Last month's talk")
    make_session(past, start=_local(-3))

    response = _get(site_client, event_index)

    assert _titles(response) == {"Walking group"}
    starts = [s.start for s in response.context["sessions"]]
    assert starts == sorted(starts)
    html = response.content.decode()
    assert html.count('class="day__heading"') == 2
    assert "Last month&#x27;s talk" not in html


def test_draft_and_private_events_are_not_listed(site_client, event_index):
    make_session(make_event(event_index, title="Draft", publish=False), start=_local(2))
    make_session(make_event(event_index, title="Public"), start=_local(2))
    assert _titles(_get(site_client, event_index)) == {"Public"}


def test_cancelled_session_is_listed_and_marked(site_client, event_index):
    session = make_session(make_event(event_index, title="Art group"), start=_local(2))
    cancel_session(session=session, public_note="Facilitator unwell")
    html = _get(site_client, event_index).content.decode()
    assert "session-card--cancelled" in html
    assert "Facilitator unwell" in html


def test_filters_by_kind_topic_and_date_range(site_client, event_index):
    make_session(
        make_event(event_index, title="Group", kind="group", topics=["recovery"]),
        start=_local(2),
    )
    make_session(
        make_event(event_index, title="Talk", kind="education", topics=["naloxone"]),
        start=_local(10),
    )

    assert _titles(_get(site_client, event_index, kind="education")) == {"Talk"}
    assert _titles(_get(site_client, event_index, topic="recovery")) == {"Group"}
    in_range = _get(
        site_client,
        event_index,
        date_from=_local(5).date().isoformat(),
        date_to=_local(12).date().isoformat(),
    )
    assert _titles(in_range) == {"Talk"}


def test_setting_filter_uses_session_venue_over_event_venue(site_client, event_index):
    hospital = make_venue(setting="hospital")
    online = make_venue(setting="online", online_joining_link="https://meet.example/x")
    event = make_event(event_index, title="Hybrid", venue=hospital)
    in_hospital = make_session(event, start=_local(2))
    online_session = make_session(event, start=_local(3), venue=online)

    hospital_ids = {
        s.pk
        for s in _get(site_client, event_index, setting="hospital").context["sessions"]
    }
    online_ids = {
        s.pk
        for s in _get(site_client, event_index, setting="online").context["sessions"]
    }
    assert hospital_ids == {in_hospital.pk}
    assert online_ids == {online_session.pk}


def test_text_search_finds_events_by_title_and_summary(
    site_client, event_index, search_index
):
    make_session(
        make_event(event_index, title="Hearing voices group", summary="Peer group."),
        start=_local(2),
    )
    make_session(
        make_event(event_index, title="Coffee morning", summary="Tea and a chat."),
        start=_local(2),
    )
    assert _titles(_get(site_client, event_index, q="voices")) == {
        "Hearing voices group"
    }
    assert _titles(_get(site_client, event_index, q="tea")) == {"Coffee morning"}
    # Quotes and symbols are not search syntax (SQLite's full-text search
    # would fail on them): the words are searched for.
    assert _titles(_get(site_client, event_index, q='"voices')) == {
        "Hearing voices group"
    }
    assert _titles(_get(site_client, event_index, q='tea*"(')) == {"Coffee morning"}
    assert len(_titles(_get(site_client, event_index, q='"'))) == 2  # explained


def test_a_search_runs_in_the_database_not_as_a_list_of_ids(event_index, search_index):
    """The listing joins the search backend's own query: however many events
    match, one query finds the sessions, and no id is sent back to it."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from events.listing import filtered_sessions

    def sessions_matching(words):
        with CaptureQueriesContext(connection) as queries:
            found = list(
                filtered_sessions(index_page=event_index, filters={"q": words})
            )
        return found, queries

    for number in range(12):
        make_session(
            make_event(event_index, title=f"Recovery circle {number}"),
            start=_local(2 + number % 3),
        )
    make_session(make_event(event_index, title="Art afternoon"), start=_local(2))

    many, many_queries = sessions_matching("recovery circle")
    one, one_queries = sessions_matching("art")
    assert len(many) == 12 and {s.event.title for s in one} == {"Art afternoon"}
    assert len(many_queries) == len(one_queries)
    # The search is a subquery of the one query that finds the sessions.
    (sessions_sql,) = [
        query["sql"]
        for query in many_queries.captured_queries
        if '"events_eventsession"' in query["sql"]
    ]
    assert "wagtailsearch_" in sessions_sql


@pytest.mark.parametrize(
    "params",
    [
        {"kind": "nonsense"},
        {"setting": "moon"},
        {"topic": "no-such-topic"},
        {"date_from": "31/31/2026"},
        {"date_to": "yesterday", "date_from": "2026-13-01"},
        {"page": "abc"},
        {"page": "99999"},
        {"page": "-1"},
        {"page": "0"},
        {"page": "2.5"},
        {"page": "1" + "0" * 40},
        {"q": "x" * 500},
        {"q": "\x00"},
        {"kind": ["education", "group"]},  # repeated: the last one counts
    ],
)
def test_malformed_filters_never_fail(site_client, event_index, params):
    make_session(make_event(event_index, title="Still here"), start=_local(2))
    response = _get(site_client, event_index, **params)
    assert "Still here" in response.content.decode()


def test_malformed_filter_shows_error_next_to_field(site_client, event_index):
    make_session(make_event(event_index), start=_local(2))
    html = _get(site_client, event_index, date_from="not-a-date").content.decode()
    assert 'class="field__error"' in html
    assert "Enter a valid date" in html


@pytest.mark.parametrize("query", ['"', "\U0001f600", "?!*"])
def test_a_search_of_symbols_alone_is_explained(site_client, event_index, query):
    """Nothing is left to search for: everything is listed, and the field
    says why instead of keeping the query as if it had matched."""
    make_session(make_event(event_index, title="Still here"), start=_local(2))
    html = _get(site_client, event_index, q=query).content.decode()
    assert "Still here" in html
    assert "Search for words or numbers. Symbols and emoji are left out." in html


def test_a_long_search_is_explained_in_plain_words(site_client, event_index):
    html = _get(site_client, event_index, q="x" * 300).content.decode()
    assert "a search can be up to 200 characters long" in html
    assert "Ensure this value" not in html


def test_end_date_before_start_date_is_explained(site_client, event_index):
    response = _get(
        site_client, event_index, date_from="2026-12-10", date_to="2026-12-01"
    )
    assert "The end date is before the start date." in response.content.decode()


def test_empty_state_is_helpful(site_client, event_index):
    html = _get(site_client, event_index).content.decode()
    assert "Nothing is planned at the moment" in html
    html = _get(site_client, event_index, kind="social").content.decode()
    assert "No upcoming sessions match what you chose." in html
    assert "Clear the filters" in html


def test_pagination_keeps_filters(site_client, event_index, settings):
    settings.GATHER_LISTING_PAGE_SIZE = 2
    event = make_event(event_index, kind="group")
    for days in range(1, 6):
        make_session(event, start=_local(days))

    first = _get(site_client, event_index, kind="group")
    assert len(first.context["sessions"]) == 2
    assert "kind=group&amp;page=2" in first.content.decode()
    last = _get(site_client, event_index, kind="group", page=3)
    assert len(last.context["sessions"]) == 1


def _results_and_pages(response):
    html = response.content.decode()
    results = re.search(r'class="results-count"[^>]*>([^<]*)<', html).group(1)
    pages = re.search(r'<nav class="pagination"[^>]*>\s*<p>([^<]*)</p>', html)
    return results, pages.group(1) if pages else None


def test_count_is_exact_up_to_the_limit(site_client, event_index, settings):
    settings.GATHER_LISTING_PAGE_SIZE = 2
    settings.GATHER_LISTING_COUNT_LIMIT = 5
    event = make_event(event_index)
    for days in range(1, 6):
        make_session(event, start=_local(days))

    response = _get(site_client, event_index)

    assert _results_and_pages(response) == ("5 upcoming sessions", "Page 1 of 3")
    assert response.context["page_obj"].paginator.count_is_exact


def test_beyond_the_limit_the_listing_says_more_than_and_still_pages(
    site_client, event_index, settings
):
    """Counting stops one past the limit: the page says "more than", its
    next link works, and a page past the counted ones is still found."""
    settings.GATHER_LISTING_PAGE_SIZE = 2
    settings.GATHER_LISTING_COUNT_LIMIT = 3
    event = make_event(event_index)
    sessions = [make_session(event, start=_local(days)) for days in range(1, 8)]

    first = _get(site_client, event_index)
    assert _results_and_pages(first) == (
        "More than 3 upcoming sessions",
        "Page 1 of at least 2",
    )
    html = first.content.decode()
    assert 'page=2" rel="next"' in html
    assert 'rel="prev"' not in html
    assert [s.pk for s in first.context["sessions"]] == [s.pk for s in sessions[:2]]

    # Page 3 needs rows 5 and 6 and one more to know there is a page 4.
    third = _get(site_client, event_index, page=3)
    assert [s.pk for s in third.context["sessions"]] == [s.pk for s in sessions[4:6]]
    assert _results_and_pages(third) == (
        "More than 6 upcoming sessions",
        "Page 3 of at least 4",
    )
    html = third.content.decode()
    assert 'page=4" rel="next"' in html and 'page=2" rel="prev"' in html

    # The last page: counted to the end, so exact again.
    last = _get(site_client, event_index, page=4)
    assert [s.pk for s in last.context["sessions"]] == [sessions[6].pk]
    assert _results_and_pages(last) == ("7 upcoming sessions", "Page 4 of 4")
    assert 'rel="next"' not in last.content.decode()

    # Past the end: the last page, as before.
    beyond = _get(site_client, event_index, page=40)
    assert [s.pk for s in beyond.context["sessions"]] == [sessions[6].pk]


def test_one_session_beyond_the_limit(site_client, event_index, settings):
    settings.GATHER_LISTING_PAGE_SIZE = 1
    settings.GATHER_LISTING_COUNT_LIMIT = 1
    event = make_event(event_index)
    make_session(event, start=_local(1))
    make_session(event, start=_local(2))
    results, pages = _results_and_pages(_get(site_client, event_index))
    assert (results, pages) == ("More than 1 upcoming session", "Page 1 of at least 2")


@pytest.mark.parametrize("page", ["0", "-3", "abc", ""])
def test_a_page_number_below_one_or_not_a_number_gives_the_first(
    site_client, event_index, settings, page
):
    settings.GATHER_LISTING_PAGE_SIZE = 1
    event = make_event(event_index)
    first = make_session(event, start=_local(1))
    make_session(event, start=_local(2))
    response = _get(site_client, event_index, page=page)
    assert [s.pk for s in response.context["sessions"]] == [first.pk]


def test_the_count_stops_at_the_limit(site_client, event_index, settings):
    """The count is one query with a LIMIT: it reads no more rows than the
    page needs, however many sessions there are."""
    settings.GATHER_PUBLIC_CACHE_SECONDS = 0
    settings.GATHER_LISTING_COUNT_LIMIT = 500
    make_session(make_event(event_index), start=_local(1))
    with CaptureQueriesContext(connection) as queries:
        _get(site_client, event_index)
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
    session_counts = [sql for sql in counts if "events_eventsession" in sql]
    assert len(session_counts) == 1
    assert "LIMIT 501" in session_counts[0]


def test_listing_query_count_does_not_grow_with_events(
    site_client, event_index, settings, django_assert_max_num_queries
):
    """Guards against one query per session row (event, venue or topic lookups)."""
    settings.GATHER_PUBLIC_CACHE_SECONDS = 0  # measures the page being built

    def add_events(count):
        venue = make_venue()
        for _ in range(count):
            event = make_event(event_index, venue=venue, topics=["recovery"])
            make_session(event, start=_local(2))

    add_events(2)
    site_client.get(event_index.url)  # warm caches (site root paths)
    with django_assert_max_num_queries(15) as few:
        _get(site_client, event_index)
    add_events(15)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = _get(site_client, event_index)
    assert len(response.context["sessions"]) == 17


def test_a_session_under_way_is_listed_until_it_ends(site_client, event_index):
    now = timezone.now()
    going = make_event(event_index, title="Day retreat")
    make_session(
        going, start=now - dt.timedelta(hours=5), end=now + dt.timedelta(hours=1)
    )
    longest = make_event(event_index, title="Week away")
    make_session(
        longest,
        start=now - MAX_SESSION_LENGTH + dt.timedelta(minutes=5),
        end=now + dt.timedelta(minutes=5),
    )
    ended = make_event(event_index, title="Morning coffee")
    make_session(
        ended, start=now - dt.timedelta(hours=2), end=now - dt.timedelta(minutes=1)
    )

    titles = _titles(_get(site_client, event_index))

    assert titles == {"Day retreat", "Week away"}
    assert set(
        EventSession.objects.upcoming().values_list("event__title", flat=True)
    ) == {"Day retreat", "Week away"}


def test_upcoming_starts_from_the_longest_a_session_can_last(event_index):
    # The bound on start lets the database begin at the first session that
    # can still be going instead of reading through every past one.
    now = timezone.now()
    sql = str(EventSession.objects.upcoming(now).query)
    assert '"start" >=' in sql and '"end" >=' in sql


def test_topics_offered_are_those_of_live_events_below_the_listing(
    event_index, home_page
):
    from events.listing import topics_in_use
    from tests.conftest import make_event_index

    make_event(event_index, topics=["recovery", "art"])
    make_event(event_index, topics=["grief"], publish=False)
    make_event(make_event_index(home_page, title="Elsewhere"), topics=["music"])

    assert [t.slug for t in topics_in_use(event_index)] == ["art", "recovery"]
    assert [t.slug for t in topics_in_use()] == ["art", "music", "recovery"]
    # A subquery that stops at each topic's first live event, not an EXISTS
    # (a semi-join over every live page on PostgreSQL).
    sql = str(topics_in_use(event_index).query)
    assert "LIMIT 1" in sql and "EXISTS" not in sql


def test_upcoming_checks_the_end_in_the_index_on_start(event_index):
    """The listing walks the (start, end) index from a week back, so the
    sessions of that week that are over are passed over in the index,
    without reading their rows (SQLite's plan names only the range), as
    planned for a large programme."""
    from events.listing import filtered_sessions
    from tests.query_plans import LARGE_PROGRAMME_STATISTICS, plan, planned_as

    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(
            cursor, EventSession._meta.db_table
        )
    columns = constraints["session_start_end_status"]["columns"]
    assert columns[:2] == ["start", "end"]
    if connection.vendor != "sqlite":
        # PostgreSQL plans an almost empty test database by other indexes;
        # the README has its plan at 10,000 events.
        return
    sessions = filtered_sessions(index_page=event_index, filters={})
    with planned_as(LARGE_PROGRAMME_STATISTICS):
        steps = plan(sessions[:20])
    assert "USING INDEX session_start_end_status (start>?)" in steps, steps


def test_the_cache_expiry_is_the_first_end_read_as_an_ordered_limit_one(event_index):
    """The listing's cache lasts until its first session ends. That moment
    was ``Min("end")`` over every upcoming session (a scan that grows with
    the programme); it is now the lowest end in an ordered LIMIT 1 (a read
    of the index on end that stops at the first match), with the same
    result: a long session that started earlier but ends later does not
    win, and a draft event's session does not count."""
    from django.db.models import Min

    from events.listing import filtered_sessions, first_end

    event = make_event(event_index, title="Walking group")
    make_session(event, start=_local(0, hour=0) - dt.timedelta(hours=1), hours=40)
    soonest = make_session(event, start=_local(1, hour=10), hours=1)
    make_session(event, start=_local(2))
    draft = make_event(event_index, title="Draft", publish=False)
    make_session(draft, start=_local(1, hour=9), hours=1)
    sessions = filtered_sessions(index_page=event_index, filters={})
    with CaptureQueriesContext(connection) as captured:
        end = first_end(sessions)
    assert end == soonest.end
    assert end == sessions.order_by().aggregate(end=Min("end"))["end"]
    (query,) = captured.captured_queries
    sql = query["sql"].upper()
    assert "MIN(" not in sql
    assert "ORDER BY" in sql and sql.rstrip().endswith("LIMIT 1")
    assert first_end(sessions.none()) is None


def _sessions_sql(queries):
    (sql,) = [
        q["sql"] for q in queries.captured_queries if "events_eventsession" in q["sql"]
    ]
    return sql


def _old_plan(index, filters):
    """The sessions as the listing found them with ``IN (every match)``."""
    from events.listing import filtered_sessions, matching_events

    rest = {key: value for key, value in filters.items() if key != "q"}
    matches = matching_events(filters["q"], index).values("pk")
    return filtered_sessions(index_page=index, filters=rest).filter(
        event_id__in=matches
    )


def test_a_common_search_probes_each_session_and_a_rare_one_joins_the_matches(
    event_index, search_index, monkeypatch
):
    """Three statements either way: the index's view restrictions, a count
    of matches up to the threshold, then the sessions, with a per-session
    probe (LIMIT 1) for a common term and ``IN (the matches)`` for a rare
    one."""
    from events import listing

    monkeypatch.setattr(listing, "RARE_SEARCH_MATCHES", 3)
    for number in range(5):
        make_session(
            make_event(event_index, title=f"Recovery circle {number}"),
            start=_local(2 + number),
        )
    make_session(make_event(event_index, title="Art afternoon"), start=_local(2))

    def run(words):
        with CaptureQueriesContext(connection) as queries:
            found = list(
                listing.filtered_sessions(index_page=event_index, filters={"q": words})
            )
        return found, queries

    common, common_queries = run("recovery")
    rare, rare_queries = run("art")
    assert len(common) == 5 and [s.event.title for s in rare] == ["Art afternoon"]
    assert len(common_queries) == len(rare_queries) == 3
    assert "LIMIT 1" in _sessions_sql(common_queries)
    assert "LIMIT 1" not in _sessions_sql(rare_queries)
    assert "wagtailsearch_" in _sessions_sql(rare_queries)


@pytest.mark.parametrize("threshold", [1, 3, 50])
def test_search_results_equal_the_in_plan(
    event_index, search_index, monkeypatch, threshold
):
    """Whichever plan the threshold picks, the sessions and their order are
    those of ``IN (every match)``, over words, filters and a rare term."""
    from events import listing

    monkeypatch.setattr(listing, "RARE_SEARCH_MATCHES", threshold)
    online = make_venue(setting="online")
    for number in range(8):
        event = make_event(
            event_index,
            title=f"{'Recovery' if number % 2 else 'Grief'} circle {number}",
            summary="Peer group." if number % 3 else "Tea and a chat.",
            venue=online if number % 4 == 0 else None,
        )
        make_session(event, start=_local(1 + number % 5))
        make_session(event, start=_local(-2))  # past: never listed
        make_session(event, start=_local(6 + number, hour=10))
    make_session(make_event(event_index, title="Rare orchid walk"), start=_local(4))
    searches = [
        {"q": "circle"},
        {"q": "recovery"},
        {"q": "grief peer"},
        {"q": "tea"},
        {"q": "orchid"},
        {"q": "nothingmatches"},
        {"q": "circle", "setting": "online"},
        {"q": "circle", "date_from": timezone.localdate() + dt.timedelta(days=3)},
    ]
    for filters in searches:
        new = listing.filtered_sessions(index_page=event_index, filters=filters)
        old = _old_plan(event_index, filters)
        assert [s.pk for s in new] == [s.pk for s in old], filters
    assert listing.filtered_sessions(
        index_page=event_index, filters={"q": "orchid"}
    ).exists()
